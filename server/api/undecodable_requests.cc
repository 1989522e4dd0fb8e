#include "server/api/undecodable_requests.h"

#include <iostream>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"
#include "server/common/errors.h"

namespace habilis::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

class UndecodableRequestInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit UndecodableRequestInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      undecodable_ = true;
    }
    if (undecodable_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      methods->ModifySendStatus(UndecodableRequest(method_));
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  bool undecodable_ = false;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING) return nullptr;
    return new UndecodableRequestInterceptor(info->method());
  }
};

struct LogPlace {
  absl::Time last_written = absl::InfinitePast();
  int left_out = 0;
};

absl::Mutex log_mu(absl::kConstInit);
std::map<std::pair<std::string, int>, LogPlace>* log_places ABSL_GUARDED_BY(log_mu) = nullptr;

// `level`: 0 info, 1 warning, 2 error, 3 fatal (never held back).
void LimitedLog(const char* origin, int level, const char* file, int line, const std::string& message) {
  static constexpr const char* kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&log_mu);
  if (log_places == nullptr) log_places = new std::map<std::pair<std::string, int>, LogPlace>();
  LogPlace& place = (*log_places)[{file, line}];
  if (level < 3 && now - place.last_written < absl::Minutes(1)) {
    ++place.left_out;
    return;
  }
  std::cerr << "habilisd: " << origin << " " << kLevels[std::min<int>(level, 3)] << " " << file << ":" << line << ": "
            << message;
  if (place.left_out > 0) std::cerr << " (and " << place.left_out << " more like it in the last minute)";
  std::cerr << std::endl;
  place.last_written = now;
  place.left_out = 0;
}

void LimitedProtobufLog(google::protobuf::LogLevel level, const char* file, int line, const std::string& message) {
  LimitedLog("protobuf", static_cast<int>(level), file, line, message);
}

void LimitedGrpcLog(gpr_log_func_args* args) {
  const int level = args->severity == GPR_LOG_SEVERITY_ERROR ? 2 : args->severity == GPR_LOG_SEVERITY_INFO ? 0 : 1;
  LimitedLog("grpc", level, args->file, args->line, args->message);
}

}  // namespace

grpc::Status UndecodableRequest(const std::string& method) {
  return ToGrpcStatus(Error(absl::StatusCode::kInvalidArgument, "REQUEST_UNDECODABLE",
                            absl::StrCat("the request is not a valid message for ", method,
                                         ": every string field must be UTF-8 and every field well formed")));
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewUndecodableRequestInterceptorFactory() {
  return std::make_unique<Factory>();
}

void LimitProtobufLogging() {
  google::protobuf::SetLogHandler(&LimitedProtobufLog);
  // gRPC's core logs each failed TLS handshake: a peer could write a line per connection attempt.
  gpr_set_log_function(&LimitedGrpcLog);
}

}  // namespace habilis::api
