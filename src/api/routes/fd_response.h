#pragma once

// A streamed response whose body a producer writes to a file descriptor (SaveArchive writes
// to an fd): the producer runs on its own thread into a pipe, and the response copies the
// pipe to the client in chunks. The handler waits for the first bytes: a producer that fails
// before writing anything gives an ordinary error response (404 for an unknown image); one
// that fails later cuts the response (no last chunk), as Docker does.

#include <functional>
#include <string>

#include "api/http/http.h"

namespace berth::api::routes {

Response FdStreamResponse(std::function<Result<void>(int fd)> produce, std::string content_type);

}  // namespace berth::api::routes
