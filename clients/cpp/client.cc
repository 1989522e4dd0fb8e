#include "clients/cpp/client.h"

#include <chrono>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"

namespace habilis::client {

std::shared_ptr<grpc::Channel> Connect(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

void Authorize(grpc::ClientContext& context, absl::string_view bearer) {
  context.AddMetadata("authorization", "Bearer " + std::string(bearer));
}

grpc::Status CallRaw(const std::shared_ptr<grpc::Channel>& channel, const std::string& method, const std::string& bytes,
                     absl::string_view bearer) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!bearer.empty()) Authorize(context, bearer);
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  auto call = stub.PrepareUnaryCall(&context, method, request, &queue);
  call->StartCall();
  grpc::ByteBuffer reply;
  grpc::Status status;
  call->Finish(&reply, &status, &context);
  void* tag = nullptr;
  bool ok = false;
  if (!queue.Next(&tag, &ok)) return grpc::Status(grpc::StatusCode::UNKNOWN, "the completion queue shut down");
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
        for (const grpc::Slice& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
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
