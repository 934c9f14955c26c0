#include "wubd/io/task_group.h"

#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>

namespace wubd::io {

struct TaskGroup::Task {
  uv_work_t req{};
  TaskGroup* group = nullptr;  // null once the group is gone: nobody wants the result
  std::function<void()> work;
  std::function<void()> done;

  static void on_work_cb(uv_work_t* req) { static_cast<Task*>(req->data)->work(); }
  static void on_after_work_cb(uv_work_t* req, int status) {
    std::unique_ptr<Task> task(static_cast<Task*>(req->data));
    assert(status == 0 && "wubd never cancels threadpool work");
    (void)status;
    if (!task->group) return;
    task->group->forget(task.get());
    task->done();  // may destroy the group; `task` is ours alone
  }
};

TaskGroup::~TaskGroup() {
  for (Task* task : tasks_) task->group = nullptr;
}

void TaskGroup::forget(Task* task) { std::erase(tasks_, task); }

int TaskGroup::run(std::function<void()> work, std::function<void()> done) {
  auto* task = new Task;
  task->group = this;
  task->work = std::move(work);
  task->done = std::move(done);
  task->req.data = task;
  int rc = uv_queue_work(loop_, &task->req, &Task::on_work_cb, &Task::on_after_work_cb);
  if (rc != 0) {
    delete task;
    return rc;
  }
  tasks_.push_back(task);
  return 0;
}

int TaskGroup::read(std::shared_ptr<const OwnedFd> file, std::int64_t offset, std::size_t length,
                    std::function<void(ssize_t result, std::string bytes)> done) {
  struct Read {
    std::shared_ptr<const OwnedFd> file;
    std::string bytes;
    ssize_t result = 0;
  };
  auto read = std::make_shared<Read>();
  read->file = std::move(file);
  read->bytes.resize(length);
  return run(
      [read, offset] {
        ssize_t n;
        do {
          n = ::pread(read->file->get(), read->bytes.data(), read->bytes.size(), offset);
        } while (n < 0 && errno == EINTR);
        read->result = n < 0 ? -errno : n;
        read->bytes.resize(n > 0 ? std::size_t(n) : 0);
      },
      [read, done = std::move(done)] { done(read->result, std::move(read->bytes)); });
}

}  // namespace wubd::io
