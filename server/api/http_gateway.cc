#include "server/api/http_gateway.h"

#define H2O_USE_EPOLL 1
#include <arpa/inet.h>
#include <fcntl.h>
#include <h2o.h>
#include <h2o/multithread.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/api/http_tls.h"

namespace habilis::api {
namespace {

// "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678", as gRPC names a peer, so that the attempt limits count the HTTP
// client as they count a gRPC one.
std::string PeerOf(h2o_conn_t* connection) {
  sockaddr_storage address{};
  if (connection->callbacks->get_peername(connection, reinterpret_cast<sockaddr*>(&address)) == 0) return "unknown";
  char host[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET6) {
    const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &ipv6.sin6_addr, host, sizeof host);
    return absl::StrCat("ipv6:[", host, "]:", ntohs(ipv6.sin6_port));
  }
  const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address);
  inet_ntop(AF_INET, &ipv4.sin_addr, host, sizeof host);
  return absl::StrCat("ipv4:", host, ":", ntohs(ipv4.sin_port));
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 499:
      return "Client Closed Request";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

h2o_iovec_t Copy(h2o_req_t* req, const std::string& text) { return h2o_strdup(&req->pool, text.data(), text.size()); }

HttpRequest RequestOf(h2o_req_t* req) {
  HttpRequest request;
  request.verb.assign(req->method.base, req->method.len);
  request.path.assign(req->path_normalized.base, req->path_normalized.len);
  for (size_t i = 0; i < req->headers.size; ++i) {
    const h2o_header_t& header = req->headers.entries[i];
    // h2o gives names in lower case; a repeated header keeps its first value.
    request.headers.try_emplace(std::string(header.name->base, header.name->len),
                                std::string(header.value.base, header.value.len));
  }
  if (req->entity.base != nullptr) request.body.assign(req->entity.base, req->entity.len);
  request.peer = PeerOf(req->conn);
  return request;
}

void Send(h2o_req_t* req, const HttpReply& reply) {
  req->res.status = reply.status;
  req->res.reason = ReasonPhrase(reply.status);
  if (!reply.content_type.empty()) {
    h2o_iovec_t type = Copy(req, reply.content_type);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, nullptr, type.base, type.len);
  }
  for (const auto& [name, value] : reply.headers) {
    h2o_iovec_t header_name = Copy(req, name);
    h2o_iovec_t header_value = Copy(req, value);
    h2o_add_header_by_str(&req->pool, &req->res.headers, header_name.base, header_name.len, 1, nullptr,
                          header_value.base, header_value.len);
  }
  if (reply.status != 204) req->res.content_length = reply.body.size();
  h2o_send_inline(req, reply.body.data(), reply.body.size());
}

// The loops of gateways already stopped. h2o 2.2 cannot dispose a context that still has connections (its loop
// asserts every timeout is gone), and a gateway lives as long as the process: a stopped loop's memory is kept
// here, reachable, until the process exits.
std::mutex retired_mu;
std::vector<std::unique_ptr<HttpGateway::Loop>>* retired_loops = nullptr;

}  // namespace

// One request waiting for its call. Created on the loop thread; the call's reply travels back to the loop
// thread as a message; only the loop thread reads or frees it. If the client goes first, h2o disposes the
// request (OnRequestGone): the call is cancelled and its reply, when it comes, is dropped.
struct Pending {
  struct Message {
    h2o_multithread_message_t super;  // first: the loop finds Message from its link
    Pending* pending;
  };
  // Lives in the request's memory pool; h2o disposes it with the request.
  struct RequestSlot {
    Pending* pending;
  };

  Message message{{}, this};
  h2o_req_t* req = nullptr;
  RequestSlot* slot = nullptr;
  grpc::ClientContext context;
  HttpReply reply;

  static void OnRequestGone(void* memory) {
    Pending* pending = static_cast<RequestSlot*>(memory)->pending;
    if (pending == nullptr) return;
    pending->req = nullptr;
    pending->slot = nullptr;
    pending->context.TryCancel();
  }
};

struct HttpGateway::Loop {
  struct Handler {
    h2o_handler_t super;  // first: h2o hands the handler back as h2o_handler_t*
    Loop* loop;
  };

  Loop(HttpGatewayOptions gateway_options, std::shared_ptr<grpc::Channel> channel)
      : options(std::move(gateway_options)) {
    calls.emplace(std::move(channel), options.cors_origins);
  }

  [[nodiscard]] absl::Status Listen(int* port);
  void Run();
  static int OnRequest(h2o_handler_t* self, h2o_req_t* req);
  static void OnAccept(h2o_socket_t* listener, const char* error);
  static void OnReplies(h2o_multithread_receiver_t* receiver, h2o_linklist_t* messages);

  const HttpGatewayOptions options;
  std::optional<ConnectCalls> calls;  // reset once stopped: a retired loop holds no channel
  std::unique_ptr<HttpTls> tls;
  h2o_globalconf_t config{};
  h2o_context_t context{};
  h2o_accept_ctx_t accept{};
  h2o_socket_t* listener = nullptr;
  h2o_multithread_queue_t* queue = nullptr;
  // h2o hands OnReplies the receiver only. Loop is not standard-layout, where offsetof (behind
  // H2O_STRUCT_FROM_MEMBER) is not defined; this wrapper is, and it carries the loop.
  struct Receiver {
    h2o_multithread_receiver_t super{};
    Loop* loop = nullptr;
  } receiver;
  absl::flat_hash_set<Pending*> pending;  // loop thread only
  std::atomic<bool> stopping{false};
  std::thread thread;
};

int HttpGateway::Loop::OnRequest(h2o_handler_t* self, h2o_req_t* req) {
  Loop* loop = reinterpret_cast<Handler*>(self)->loop;
  if (loop->stopping.load(std::memory_order_acquire)) {
    Send(req, ConnectCalls::Refusal(absl::StatusCode::kUnavailable, "SERVER_STOPPING", "habilisd is stopping"));
    return 0;
  }
  auto* pending = new Pending();
  pending->req = req;
  pending->slot = static_cast<Pending::RequestSlot*>(
      h2o_mem_alloc_shared(&req->pool, sizeof(Pending::RequestSlot), &Pending::OnRequestGone));
  pending->slot->pending = pending;
  loop->pending.insert(pending);
  loop->calls->Answer(RequestOf(req), &pending->context, [loop, pending](HttpReply reply) {
    pending->reply = std::move(reply);
    h2o_multithread_send_message(&loop->receiver.super, &pending->message.super);
  });
  return 0;
}

void HttpGateway::Loop::OnReplies(h2o_multithread_receiver_t* receiver, h2o_linklist_t* messages) {
  Loop* loop = nullptr;
  while (!h2o_linklist_is_empty(messages)) {
    auto* message = reinterpret_cast<Pending::Message*>(messages->next);
    h2o_linklist_unlink(&message->super.link);
    std::unique_ptr<Pending> pending(message->pending);
    if (loop == nullptr) loop = H2O_STRUCT_FROM_MEMBER(Receiver, super, receiver)->loop;
    loop->pending.erase(pending.get());
    if (pending->req == nullptr) continue;  // the client has gone
    pending->slot->pending = nullptr;
    Send(pending->req, pending->reply);
  }
}

void HttpGateway::Loop::OnAccept(h2o_socket_t* listener, const char* error) {
  if (error != nullptr) return;
  Loop* loop = static_cast<Loop*>(listener->data);
  if (h2o_socket_t* socket = h2o_evloop_socket_accept(listener); socket != nullptr) h2o_accept(&loop->accept, socket);
}

absl::Status HttpGateway::Loop::Listen(int* port) {
  const absl::Status refused = absl::UnavailableError(absl::StrCat("--http-listen: cannot listen on ", options.listen));
  const size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos) return refused;
  std::string host = options.listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), options.listen.substr(colon + 1).c_str(), &hints, &found) !=
      0) {
    return refused;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int yes = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    if (fd >= 0) close(fd);
    return refused;
  }
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  *port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6&>(bound).sin6_port
                                            : reinterpret_cast<sockaddr_in&>(bound).sin_port);

  h2o_config_init(&config);
  config.server_name = h2o_iovec_init(H2O_STRLIT("habilis"));
  config.max_request_entity_size = options.max_request_bytes;
  h2o_hostconf_t* host_config = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t* path = h2o_config_register_path(host_config, "/", 0);
  auto* handler = reinterpret_cast<Handler*>(h2o_create_handler(path, sizeof(Handler)));
  handler->super.on_req = &Loop::OnRequest;
  handler->loop = this;
  h2o_context_init(&context, h2o_evloop_create(), &config);
  accept.ctx = &context;
  accept.hosts = config.hosts;
  accept.ssl_ctx = tls != nullptr ? tls->context() : nullptr;
  queue = h2o_multithread_create_queue(context.loop);
  receiver.loop = this;
  h2o_multithread_register_receiver(queue, &receiver.super, &Loop::OnReplies);
  listener = h2o_evloop_socket_create(context.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  listener->data = this;
  h2o_socket_read_start(listener, &Loop::OnAccept);
  return absl::OkStatus();
}

// Serves until `stopping`; then takes no new connection, cancels the calls under way and waits for their
// replies, so that no gRPC thread sends to a loop that has gone.
void HttpGateway::Loop::Run() {
  while (!stopping.load(std::memory_order_acquire)) h2o_evloop_run(context.loop, 100);
  h2o_socket_read_stop(listener);
  h2o_socket_close(listener);
  for (Pending* call : pending) call->context.TryCancel();
  while (!pending.empty()) h2o_evloop_run(context.loop, 100);
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(HttpGatewayOptions options,
                                                                std::shared_ptr<grpc::Channel> channel) {
  std::unique_ptr<HttpGateway> gateway(new HttpGateway());
  gateway->loop_ = std::make_unique<Loop>(std::move(options), std::move(channel));
  Loop& loop = *gateway->loop_;
  if (!loop.options.tls.cert_file.empty()) {
    absl::StatusOr<std::unique_ptr<HttpTls>> tls = HttpTls::Load(loop.options.tls);
    if (!tls.ok()) return tls.status();
    loop.tls = *std::move(tls);
  }
  if (absl::Status listening = loop.Listen(&gateway->port_); !listening.ok()) return listening;
  loop.thread = std::thread([&loop] { loop.Run(); });
  return gateway;
}

HttpGateway::~HttpGateway() {
  if (loop_ == nullptr || !loop_->thread.joinable()) return;
  loop_->stopping.store(true, std::memory_order_release);
  loop_->thread.join();
  loop_->calls.reset();
  std::lock_guard<std::mutex> lock(retired_mu);
  if (retired_loops == nullptr) retired_loops = new std::vector<std::unique_ptr<Loop>>();
  retired_loops->push_back(std::move(loop_));
}

}  // namespace habilis::api
