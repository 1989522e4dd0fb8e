// A plain HTTP client for tests (libcurl): the metrics endpoint and the HTTP/JSON API.
#ifndef HABILIS_TESTS_TESTING_HTTP_H_
#define HABILIS_TESTS_TESTING_HTTP_H_

#include <map>
#include <string>
#include <vector>

namespace habilis::testing {

struct HttpResponse {
  long status = 0;                             // 0 when no answer came (refused connection, timeout)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

// Sends `method` `url` with `headers` ("Name: value") and `body`; gives up after 10 s.
HttpResponse Http(const std::string& method, const std::string& url, const std::vector<std::string>& headers = {},
                  const std::string& body = "");

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_HTTP_H_
