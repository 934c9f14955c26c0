#pragma once

#include "wubd/core/url.h"
#include "wubd/io/http_response.h"
#include "wubd/transfers/transfer_engine.h"

namespace wubd::transfers {

// GET /jobs[?state=Initializing|InProgress|Completed|Errored|Cancelled][&source=S]: the
// engine's records as a JSON array, oldest first (id, source, target, file_name,
// state, bytes, bytes_per_second, error, queued_at, started_at, finished_at). A bad
// state is 400 naming the accepted values.
void answer_jobs(const TransferEngine& engine, const core::QueryParams& query, io::HttpResponse& response);

}  // namespace wubd::transfers
