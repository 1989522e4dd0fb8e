#include "clients/cpp/client.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"

namespace habilis::client {

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  if (!in.good() && !in.eof()) return absl::InvalidArgumentError(std::string("cannot read the ") + what + " " + path);
  if (content.str().empty()) return absl::InvalidArgumentError(std::string("the ") + what + " " + path + " is empty");
  return content.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectTls(const std::string& target, const std::string& ca_file,
                                                          const std::string& cert_file, const std::string& key_file) {
  grpc::SslCredentialsOptions options;
  if (!ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(ca_file, "CA file");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError("a client certificate and its key go together");
  }
  if (!cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(cert_file, "certificate file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(key_file, "key file");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::CreateChannel(target, grpc::SslCredentials(options));
}

std::string MethodOf(const google::protobuf::Message& request) {
  const google::protobuf::Descriptor* input = request.GetDescriptor();
  const google::protobuf::FileDescriptor* file = input->file();
  for (int s = 0; s < file->service_count(); ++s) {
    for (int m = 0; m < file->service(s)->method_count(); ++m) {
      const google::protobuf::MethodDescriptor* method = file->service(s)->method(m);
      if (method->input_type() == input) return "/" + method->service()->full_name() + "/" + method->name();
    }
  }
  return "";
}

std::string CodeName(grpc::StatusCode code) {
  // gRPC's codes are absl's, number for number.
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

void Authorize(grpc::ClientContext& context, absl::string_view bearer) {
  context.AddMetadata("authorization", "Bearer " + std::string(bearer));
}

namespace {

// One unary call of `method` with `bytes` as its request, through gRPC's generic stub; the reply's bytes into
// `reply` when given.
grpc::Status UnaryBytes(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                        const std::string& bytes, absl::string_view bearer, std::chrono::milliseconds timeout,
                        std::string* reply) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!bearer.empty()) Authorize(context, bearer);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, &context);
  void* tag = nullptr;
  bool ok = false;
  if (!queue.Next(&tag, &ok)) return grpc::Status(grpc::StatusCode::UNKNOWN, "the completion queue shut down");
  if (status.ok() && reply != nullptr) {
    std::vector<grpc::Slice> slices;
    if (response.Dump(&slices).ok()) {
      for (const grpc::Slice& part : slices) reply->append(reinterpret_cast<const char*>(part.begin()), part.size());
    }
  }
  return status;
}

}  // namespace

grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method, const std::string& bytes,
                     absl::string_view bearer) {
  return UnaryBytes(channel, method, bytes, bearer, std::chrono::seconds(30), nullptr);
}

grpc::Status Call(const std::shared_ptr<grpc::Channel>& channel, absl::string_view bearer,
                  const google::protobuf::Message& request, google::protobuf::Message& response,
                  std::chrono::milliseconds timeout) {
  const std::string method = MethodOf(request);
  if (method.empty()) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no method takes this request");
  std::string bytes;
  grpc::Status status = UnaryBytes(channel, method, request.SerializeAsString(), bearer, timeout, &bytes);
  if (status.ok() && !response.ParseFromString(bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the server's response does not parse");
  }
  return status;
}

grpc::Status CallRawStream(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                           const std::vector<std::string>& messages, absl::string_view bearer,
                           std::vector<std::string>* replies) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!bearer.empty()) Authorize(context, bearer);
  auto call = stub.PrepareCall(&context, method, &queue);
  // One operation at a time: each is waited for before the next begins.
  auto wait = [&] {
    void* tag = nullptr;
    bool ok = false;
    return queue.Next(&tag, &ok) && ok;
  };
  call->StartCall(nullptr);
  if (wait()) {
    for (const std::string& bytes : messages) {
      grpc::Slice slice(bytes);
      grpc::ByteBuffer message(&slice, 1);
      call->Write(message, nullptr);
      if (!wait()) break;
    }
    call->WritesDone(nullptr);
    wait();
    grpc::ByteBuffer reply;
    while (true) {
      call->Read(&reply, nullptr);
      if (!wait()) break;
      std::vector<grpc::Slice> slices;
      if (replies != nullptr && reply.Dump(&slices).ok()) {
        std::string& bytes = replies->emplace_back();
        for (const grpc::Slice& slice : slices) {
          bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
        }
      }
    }
  }
  grpc::Status status;
  call->Finish(&status, nullptr);
  if (!wait()) return grpc::Status(grpc::StatusCode::UNKNOWN, "the call did not finish");
  return status;
}

ErrorDetails DetailsOf(const grpc::Status& status) {
  ErrorDetails details;
  google::rpc::Status rpc_status;
  if (status.error_details().empty() || !rpc_status.ParseFromString(status.error_details())) return details;
  for (const auto& any : rpc_status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&info)) {
      ++details.error_info_count;
      details.reason = info.reason();
      details.domain = info.domain();
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& v : bad_request.field_violations()) {
        details.field_violations.push_back({v.field(), v.reason(), v.description()});
      }
    }
  }
  return details;
}

}  // namespace habilis::client
