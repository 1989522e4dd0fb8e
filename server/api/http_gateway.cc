#include "server/api/http_gateway.h"

#include <civetweb.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"
#include "server/common/call_log.h"
#include "server/common/errors.h"

namespace habilis::api {
namespace {

using google::protobuf::Message;
using google::protobuf::MethodDescriptor;

// The Connect protocol's name of a gRPC code, and the HTTP status it travels with (connectrpc.com/docs/protocol).
struct ConnectCode {
  const char* name;
  int http_status;
};

ConnectCode ConnectCodeOf(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return {"canceled", 499};
    case grpc::StatusCode::INVALID_ARGUMENT:
      return {"invalid_argument", 400};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {"deadline_exceeded", 504};
    case grpc::StatusCode::NOT_FOUND:
      return {"not_found", 404};
    case grpc::StatusCode::ALREADY_EXISTS:
      return {"already_exists", 409};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {"permission_denied", 403};
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return {"resource_exhausted", 429};
    case grpc::StatusCode::FAILED_PRECONDITION:
      return {"failed_precondition", 400};
    case grpc::StatusCode::ABORTED:
      return {"aborted", 409};
    case grpc::StatusCode::OUT_OF_RANGE:
      return {"out_of_range", 400};
    case grpc::StatusCode::UNIMPLEMENTED:
      return {"unimplemented", 501};
    case grpc::StatusCode::INTERNAL:
      return {"internal", 500};
    case grpc::StatusCode::UNAVAILABLE:
      return {"unavailable", 503};
    case grpc::StatusCode::DATA_LOSS:
      return {"data_loss", 500};
    case grpc::StatusCode::UNAUTHENTICATED:
      return {"unauthenticated", 401};
    default:
      return {"unknown", 500};
  }
}

struct Reply {
  int http_status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
};

// The Connect error body of `status`: its code, message, and each detail as its type, its bytes in base64 and,
// for the reader, the detail itself as JSON ("debug", which Connect clients ignore).
Reply ErrorReply(const grpc::Status& status) {
  const ConnectCode code = ConnectCodeOf(status.error_code());
  std::string body = absl::StrCat("{\"code\":\"", code.name, "\",\"message\":", JsonString(status.error_message()));
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details()) &&
      details.details_size() > 0) {
    body += ",\"details\":[";
    for (int i = 0; i < details.details_size(); ++i) {
      const google::protobuf::Any& detail = details.details(i);
      const std::string type(absl::StripPrefix(detail.type_url(), "type.googleapis.com/"));
      std::string value = absl::Base64Escape(detail.value());
      value.erase(value.find_last_not_of('=') + 1);  // Connect sends base64 without padding
      absl::StrAppend(&body, i > 0 ? "," : "", "{\"type\":", JsonString(type), ",\"value\":\"", value, "\"");
      const google::protobuf::Descriptor* descriptor =
          google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
      if (descriptor != nullptr) {
        std::unique_ptr<Message> message(
            google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
        std::string debug;
        if (message->ParseFromString(detail.value()) &&
            google::protobuf::util::MessageToJsonString(*message, &debug).ok()) {
          absl::StrAppend(&body, ",\"debug\":", debug);
        }
      }
      body += "}";
    }
    body += "]";
  }
  body += "}";
  return {code.http_status, "application/json", std::move(body), {}};
}

Reply ErrorReply(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  return ErrorReply(ToGrpcStatus(Error(code, reason, message)));
}

// The unary method a path names ("/habilis.v1.StructureService/GetStructure"), or null.
const MethodDescriptor* UnaryMethodOf(absl::string_view path) {
  if (!absl::ConsumePrefix(&path, "/")) return nullptr;
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return nullptr;
  const std::string service(path.substr(0, slash));
  if (!absl::StartsWith(service, "habilis.v1.") && service != "grpc.health.v1.Health") return nullptr;
  const google::protobuf::ServiceDescriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
  if (descriptor == nullptr) return nullptr;
  const MethodDescriptor* method = descriptor->FindMethodByName(std::string(path.substr(slash + 1)));
  if (method == nullptr || method->client_streaming() || method->server_streaming()) return nullptr;
  return method;
}

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

// "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678", as gRPC names a peer, so that the attempt limits count the HTTP
// client as they count a gRPC one.
std::string PeerOf(const mg_request_info& info) {
  const bool ipv6 = std::string_view(info.remote_addr).find(':') != std::string_view::npos;
  return ipv6 ? absl::StrCat("ipv6:[", info.remote_addr, "]:", info.remote_port)
              : absl::StrCat("ipv4:", info.remote_addr, ":", info.remote_port);
}

// The gateway's secret (see kHttpClientAddressKey), 32 hexadecimal digits.
const std::string& GatewaySecret() {
  static const std::string* secret = [] {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
    return new std::string(absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(bytes), sizeof bytes)));
  }();
  return *secret;
}

}  // namespace

std::optional<std::string> ForwardedClientAddress(absl::string_view header) {
  const std::string& secret = GatewaySecret();
  if (header.size() <= secret.size() + 1 || header[secret.size()] != ' ' ||
      CRYPTO_memcmp(header.data(), secret.data(), secret.size()) != 0) {
    return std::nullopt;
  }
  return std::string(header.substr(secret.size() + 1));
}

struct HttpGateway::Handler {
  Handler(HttpGatewayOptions gateway_options, std::shared_ptr<grpc::Channel> in_process)
      : options(std::move(gateway_options)), channel(std::move(in_process)), stub(channel) {}

  static int Serve(mg_connection* connection, void* self) {
    static_cast<Handler*>(self)->Answer(connection);
    return 1;
  }

  void Answer(mg_connection* connection) {
    const mg_request_info& info = *mg_get_request_info(connection);
    const char* origin = mg_get_header(connection, "Origin");
    const bool cors = origin != nullptr && std::find(options.cors_origins.begin(), options.cors_origins.end(),
                                                     origin) != options.cors_origins.end();
    Reply reply = Route(connection, info, cors);
    if (cors) {
      reply.headers.push_back(absl::StrCat("Access-Control-Allow-Origin: ", origin));
      reply.headers.push_back("Access-Control-Expose-Headers: Content-Type");
    }
    reply.headers.push_back("Vary: Origin");
    Send(connection, reply);
  }

  Reply Route(mg_connection* connection, const mg_request_info& info, bool cors) {
    const std::string verb = info.request_method;
    if (verb == "OPTIONS") {
      if (!cors) return {403, "text/plain", "this origin may not call habilis (--http-cors-origins)\n", {}};
      return {204,
              "",
              "",
              {"Access-Control-Allow-Methods: POST", "Access-Control-Max-Age: 7200",
               "Access-Control-Allow-Headers: Authorization, Content-Type, Connect-Protocol-Version, "
               "Connect-Timeout-Ms"}};
    }
    const MethodDescriptor* method = UnaryMethodOf(info.local_uri_raw != nullptr ? info.local_uri_raw : "");
    if (method == nullptr) {
      return ErrorReply(absl::StatusCode::kNotFound, "METHOD_UNKNOWN",
                        "no unary method at this path: POST /habilis.v1.<Service>/<Method> (streaming methods are "
                        "gRPC only)");
    }
    if (verb != "POST") {
      Reply refused = ErrorReply(absl::StatusCode::kUnimplemented, "HTTP_METHOD_NOT_ALLOWED", "use POST");
      refused.http_status = 405;
      refused.headers.push_back("Allow: POST");
      return refused;
    }
    const char* content_type = mg_get_header(connection, "Content-Type");
    std::string media = content_type != nullptr ? content_type : "";
    media = absl::AsciiStrToLower(absl::StripAsciiWhitespace(media.substr(0, media.find(';'))));
    if (media != "application/json" && media != "application/proto") {
      Reply refused = ErrorReply(absl::StatusCode::kInvalidArgument, "CONTENT_TYPE_UNSUPPORTED",
                                 "send Content-Type: application/json (or application/proto)");
      refused.http_status = 415;
      refused.headers.push_back("Accept-Post: application/json, application/proto");
      return refused;
    }
    const bool json = media == "application/json";
    absl::StatusOr<std::string> body = ReadBody(connection, info);
    if (!body.ok()) return ErrorReply(ToGrpcStatus(body.status()));

    std::unique_ptr<Message> request = NewMessage(method->input_type());
    const bool parsed =
        json ? google::protobuf::util::JsonStringToMessage(*body, request.get()).ok() : request->ParseFromString(*body);
    if (!parsed) {
      return ErrorReply(absl::StatusCode::kInvalidArgument, "REQUEST_UNDECODABLE",
                        absl::StrCat("the body is not a ", method->input_type()->full_name(), " in ",
                                     json ? "JSON (proto3 JSON mapping, no unknown field)" : "protobuf binary"));
    }
    std::string response_bytes;
    grpc::Status status = Call(connection, info, *method, request->SerializeAsString(), &response_bytes);
    if (!status.ok()) return ErrorReply(status);
    if (!json) return {200, "application/proto", std::move(response_bytes), {}};
    std::unique_ptr<Message> response = NewMessage(method->output_type());
    std::string out;
    if (!response->ParseFromString(response_bytes) ||
        !google::protobuf::util::MessageToJsonString(*response, &out).ok()) {
      return ErrorReply(absl::StatusCode::kInternal, "RESPONSE_UNENCODABLE", "the response could not be written");
    }
    return {200, "application/json", std::move(out), {}};
  }

  absl::StatusOr<std::string> ReadBody(mg_connection* connection, const mg_request_info& info) const {
    const absl::Status too_large =
        Error(absl::StatusCode::kResourceExhausted, "REQUEST_TOO_LARGE",
              absl::StrCat("the body is larger than ", options.max_request_bytes, " bytes (--max-message-bytes)"));
    if (info.content_length > options.max_request_bytes) return too_large;
    std::string body;
    char buffer[16384];
    for (int read; (read = mg_read(connection, buffer, sizeof buffer)) > 0;) {
      body.append(buffer, read);
      if (body.size() > static_cast<size_t>(options.max_request_bytes)) return too_large;
    }
    return body;
  }

  grpc::Status Call(mg_connection* connection, const mg_request_info& info, const MethodDescriptor& method,
                    const std::string& request, std::string* response) {
    grpc::ClientContext context;
    int64_t timeout_ms = 60000;
    if (const char* timeout = mg_get_header(connection, "Connect-Timeout-Ms"); timeout != nullptr) {
      if (!absl::SimpleAtoi(timeout, &timeout_ms) || timeout_ms <= 0) {
        return ToGrpcStatus(Error(absl::StatusCode::kInvalidArgument, "TIMEOUT_INVALID",
                                  "Connect-Timeout-Ms must be a positive number of milliseconds"));
      }
      timeout_ms = std::min<int64_t>(timeout_ms, 300000);
    }
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    if (const char* authorization = mg_get_header(connection, "Authorization"); authorization != nullptr) {
      context.AddMetadata("authorization", authorization);
    }
    context.AddMetadata(kHttpClientAddressKey, absl::StrCat(GatewaySecret(), " ", PeerOf(info)));
    grpc::Slice slice(request);
    grpc::ByteBuffer request_buffer(&slice, 1);
    grpc::ByteBuffer response_buffer;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&context, absl::StrCat("/", method.service()->full_name(), "/", method.name()), grpc::StubOptions(),
                   &request_buffer, &response_buffer, [&](grpc::Status finished) {
                     status = std::move(finished);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return status;
    std::vector<grpc::Slice> slices;
    if (!response_buffer.Dump(&slices).ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response");
    for (const grpc::Slice& part : slices) response->append(reinterpret_cast<const char*>(part.begin()), part.size());
    return status;
  }

  static void Send(mg_connection* connection, const Reply& reply) {
    std::string head = absl::StrCat("HTTP/1.1 ", reply.http_status, " ",
                                    mg_get_response_code_text(connection, reply.http_status), "\r\n");
    if (!reply.content_type.empty()) absl::StrAppend(&head, "Content-Type: ", reply.content_type, "\r\n");
    absl::StrAppend(&head, "Content-Length: ", reply.body.size(), "\r\n");
    for (const std::string& header : reply.headers) absl::StrAppend(&head, header, "\r\n");
    head += "\r\n";
    mg_write(connection, head.data(), head.size());
    if (!reply.body.empty()) mg_write(connection, reply.body.data(), reply.body.size());
  }

  const HttpGatewayOptions options;
  std::shared_ptr<grpc::Channel> channel;
  grpc::GenericStub stub;
};

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(HttpGatewayOptions options,
                                                                std::shared_ptr<grpc::Channel> channel) {
  static const unsigned initialized = mg_init_library(0);
  (void)initialized;
  std::unique_ptr<HttpGateway> gateway(new HttpGateway());
  const std::string listen = options.listen;
  gateway->handler_ = std::make_unique<Handler>(std::move(options), std::move(channel));
  // Each request holds its thread while the call runs on the executor.
  const char* settings[] = {"listening_ports", listen.c_str(), "num_threads", "16", "request_timeout_ms", "70000",
                            "enable_keep_alive", "yes",
                            // CORS is answered here (--http-cors-origins), not by civetweb's default of any origin.
                            "access_control_allow_origin", "", nullptr};
  mg_callbacks callbacks{};
  // civetweb's own messages (a refused bind, for example) are reported through Start's status instead.
  callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
  gateway->server_ = mg_start(&callbacks, nullptr, settings);
  if (gateway->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("--http-listen: cannot listen on ", listen));
  }
  mg_set_request_handler(gateway->server_, "/", &Handler::Serve, gateway->handler_.get());
  mg_server_port ports[4];
  const int count = mg_get_server_ports(gateway->server_, 4, ports);
  gateway->port_ = count > 0 ? ports[0].port : 0;
  return gateway;
}

HttpGateway::~HttpGateway() {
  if (server_ != nullptr) mg_stop(server_);
}

}  // namespace habilis::api
