#include "server/api/connect_protocol.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
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

// The Connect error body of `status`: its code, message, and each detail as its type, its bytes in base64 and,
// for the reader, the detail itself as JSON ("debug", which Connect clients ignore).
HttpReply ErrorReply(const grpc::Status& status) {
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

HttpReply ErrorReply(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
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

const std::string* HttpRequest::Header(absl::string_view name) const {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

ConnectCalls::ConnectCalls(std::shared_ptr<grpc::Channel> channel, std::vector<std::string> cors_origins)
    : channel_(std::move(channel)), stub_(channel_), cors_origins_(std::move(cors_origins)) {}

HttpReply ConnectCalls::Refusal(absl::StatusCode code, absl::string_view reason, absl::string_view message) {
  return ErrorReply(code, reason, message);
}

bool ConnectCalls::AllowedOrigin(const std::string* origin) const {
  return origin != nullptr && std::find(cors_origins_.begin(), cors_origins_.end(), *origin) != cors_origins_.end();
}

std::optional<HttpReply> ConnectCalls::Refuse(const HttpRequest& request, bool cors) const {
  if (request.verb == "OPTIONS") {
    if (!cors) return HttpReply{403, "text/plain", "this origin may not call habilis (--http-cors-origins)\n", {}};
    return HttpReply{204,
                     "",
                     "",
                     {{"access-control-allow-methods", "POST"},
                      {"access-control-max-age", "7200"},
                      {"access-control-allow-headers",
                       "Authorization, Content-Type, Connect-Protocol-Version, Connect-Timeout-Ms"}}};
  }
  if (UnaryMethodOf(request.path) == nullptr) {
    return ErrorReply(absl::StatusCode::kNotFound, "METHOD_UNKNOWN",
                      "no unary method at this path: POST /habilis.v1.<Service>/<Method> (streaming methods are "
                      "gRPC only)");
  }
  if (request.verb != "POST") {
    HttpReply refused = ErrorReply(absl::StatusCode::kUnimplemented, "HTTP_METHOD_NOT_ALLOWED", "use POST");
    refused.status = 405;
    refused.headers.emplace_back("allow", "POST");
    return refused;
  }
  return std::nullopt;
}

namespace {

// The body's encoding from its Content-Type: true for JSON, false for binary protobuf; for another, nullopt
// and `refused` is the 415 to send.
std::optional<bool> IsJson(const HttpRequest& request, HttpReply& refused) {
  const std::string* content_type = request.Header("content-type");
  std::string media = content_type != nullptr ? *content_type : "";
  media = absl::AsciiStrToLower(absl::StripAsciiWhitespace(media.substr(0, media.find(';'))));
  if (media == "application/json" || media == "application/proto") return media == "application/json";
  refused = ErrorReply(absl::StatusCode::kInvalidArgument, "CONTENT_TYPE_UNSUPPORTED",
                       "send Content-Type: application/json (or application/proto)");
  refused.status = 415;
  refused.headers.emplace_back("accept-post", "application/json, application/proto");
  return std::nullopt;
}

// The call's deadline (Connect-Timeout-Ms, at most 5 minutes, 1 by default) and metadata: the caller's
// credentials, and its address for the attempt limiter, vouched for by the gateway's secret.
std::optional<HttpReply> PrepareContext(const HttpRequest& request, grpc::ClientContext& context) {
  int64_t timeout_ms = 60000;
  if (const std::string* timeout = request.Header("connect-timeout-ms"); timeout != nullptr) {
    if (!absl::SimpleAtoi(*timeout, &timeout_ms) || timeout_ms <= 0) {
      return ErrorReply(absl::StatusCode::kInvalidArgument, "TIMEOUT_INVALID",
                        "Connect-Timeout-Ms must be a positive number of milliseconds");
    }
    timeout_ms = std::min<int64_t>(timeout_ms, 300000);
  }
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  if (const std::string* authorization = request.Header("authorization"); authorization != nullptr) {
    context.AddMetadata("authorization", *authorization);
  }
  context.AddMetadata(kHttpClientAddressKey, absl::StrCat(GatewaySecret(), " ", request.peer));
  return std::nullopt;
}

// The HTTP reply of a call that ended with `status` and `response`, in the request's encoding.
HttpReply ReplyOf(const grpc::Status& status, grpc::ByteBuffer& response, const MethodDescriptor* method, bool json) {
  if (!status.ok()) return ErrorReply(status);
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (!response.Dump(&slices).ok()) return ErrorReply(grpc::Status(grpc::StatusCode::INTERNAL, "unreadable response"));
  for (const grpc::Slice& part : slices) bytes.append(reinterpret_cast<const char*>(part.begin()), part.size());
  if (!json) return HttpReply{200, "application/proto", std::move(bytes), {}};
  std::unique_ptr<Message> message = NewMessage(method->output_type());
  std::string out;
  if (!message->ParseFromString(bytes) || !google::protobuf::util::MessageToJsonString(*message, &out).ok()) {
    return ErrorReply(absl::StatusCode::kInternal, "RESPONSE_UNENCODABLE", "the response could not be written");
  }
  return HttpReply{200, "application/json", std::move(out), {}};
}

}  // namespace

void ConnectCalls::Answer(const HttpRequest& request, grpc::ClientContext* context,
                          std::function<void(HttpReply)> done) {
  const std::string* origin = request.Header("origin");
  const bool cors = AllowedOrigin(origin);
  // Every reply says which origin it was for, so that no cache serves one origin's answer to another.
  auto finish = [done = std::move(done), allowed_origin = cors ? *origin : std::string()](HttpReply reply) {
    if (!allowed_origin.empty()) {
      reply.headers.emplace_back("access-control-allow-origin", allowed_origin);
      reply.headers.emplace_back("access-control-expose-headers", "Content-Type");
    }
    reply.headers.emplace_back("vary", "Origin");
    done(std::move(reply));
  };
  if (std::optional<HttpReply> refused = Refuse(request, cors)) return finish(*std::move(refused));

  const MethodDescriptor* method = UnaryMethodOf(request.path);
  HttpReply refused;
  const std::optional<bool> json = IsJson(request, refused);
  if (!json) return finish(std::move(refused));
  std::unique_ptr<Message> message = NewMessage(method->input_type());
  const bool parsed = *json ? google::protobuf::util::JsonStringToMessage(request.body, message.get()).ok()
                            : message->ParseFromString(request.body);
  if (!parsed) {
    return finish(ErrorReply(absl::StatusCode::kInvalidArgument, "REQUEST_UNDECODABLE",
                             absl::StrCat("the body is not a ", method->input_type()->full_name(), " in ",
                                          *json ? "JSON (proto3 JSON mapping, no unknown field)" : "protobuf binary")));
  }
  if (std::optional<HttpReply> invalid = PrepareContext(request, *context)) return finish(*std::move(invalid));

  struct Buffers {
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };
  auto buffers = std::make_shared<Buffers>();
  grpc::Slice slice(message->SerializeAsString());
  buffers->request = grpc::ByteBuffer(&slice, 1);
  stub_.UnaryCall(context, absl::StrCat("/", method->service()->full_name(), "/", method->name()), grpc::StubOptions(),
                  &buffers->request, &buffers->response,
                  [buffers, method, json = *json, finish = std::move(finish)](grpc::Status status) {
                    finish(ReplyOf(status, buffers->response, method, json));
                  });
}

}  // namespace habilis::api
