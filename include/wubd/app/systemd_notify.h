#pragma once

#include <string_view>

// Telling systemd how the service is doing (Type=notify): one datagram to the socket
// systemd names in $NOTIFY_SOCKET. Written here rather than linking libsystemd for it:
// the protocol is one sendmsg, documented as stable, and sd_notify(3) itself suggests
// reimplementing it where the dependency is not wanted. Without $NOTIFY_SOCKET (not
// under systemd) it does nothing.
namespace wubd::app {

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=…"); false if there
// is a socket and the send failed.
bool notify_systemd(std::string_view state);

}  // namespace wubd::app
