// AccountFileService: CSV export and import, each call on a thread of its own.
#include <memory>
#include <utility>

#include "server/api/services.h"
#include "server/api/stream_call.h"
#include "server/api/undecodable_requests.h"
#include "server/common/call_log.h"
#include "server/common/metrics.h"
#include "server/common/paging.h"
#include "server/domain/kernel/resource_names.h"

namespace habilis::api {
// The import's stream, parsed here: a message that does not parse is told apart from the end of the file (gRPC's
// own parsing makes both a failed read), so that a file is never imported cut short.
class ImportStream {
 public:
  explicit ImportStream(grpc::CallbackServerContext* ctx)
      : bidi_(new BlockingBidi<grpc::ByteBuffer, grpc::ByteBuffer>(ctx)) {}

  enum class Next { kMessage, kEnd, kUndecodable };
  Next Read(v1::ImportAccountsRequest& message) {
    grpc::ByteBuffer bytes;
    if (!bidi_->Read(bytes)) return Next::kEnd;
    message.Clear();
    return grpc::SerializationTraits<v1::ImportAccountsRequest>::Deserialize(&bytes, &message).ok()
               ? Next::kMessage
               : Next::kUndecodable;
  }
  bool Write(const v1::ImportAccountsResponse& message) {
    grpc::ByteBuffer bytes;
    bool own_buffer = false;
    return grpc::SerializationTraits<v1::ImportAccountsResponse>::Serialize(message, &bytes, &own_buffer).ok() &&
           bidi_->Write(bytes);
  }
  void Finish(const grpc::Status& status) { bidi_->Finish(status); }
  // Owned by gRPC once returned to it (it deletes itself when the call is done).
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* reactor() { return bidi_; }

 private:
  BlockingBidi<grpc::ByteBuffer, grpc::ByteBuffer>* bidi_;
};

namespace {

// The largest file an import reads (about a million rows of the export format).
constexpr size_t kMaxImportBytes = size_t{512} << 20;

grpc::Status Busy() {
  return ToGrpcStatus(Error(absl::StatusCode::kResourceExhausted, "SERVER_BUSY",
                            "the server is already running its maximum of exports and imports; retry later"));
}

// A stream that ends at once with `status`.
template <typename Reactor>
class Refused final : public Reactor {
 public:
  explicit Refused(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::ExportAccountsResponse>* AccountFileService::ExportAccounts(
    grpc::CallbackServerContext* ctx, const v1::ExportAccountsRequest* request) {
  using Reactor = grpc::ServerWriteReactor<v1::ExportAccountsResponse>;
  StreamCall call{MethodOf<v1::ExportAccountsRequest>(), absl::Now(), ""};
  std::optional<std::string> siret = domain::ParseStructureName(request->parent());
  if (!siret) {
    return new Refused<Reactor>(
        call.Logged(ToGrpcStatus(InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}"))));
  }
  absl::StatusOr<authz::Principal> caller =
      context_.gate.Admit(*ctx, MethodOf<v1::ExportAccountsRequest>(), authz::Target{.structure = *siret});
  if (!caller.ok()) return new Refused<Reactor>(call.Logged(ToGrpcStatus(caller.status())));
  call.principal = caller->ResourceName();

  auto* stream = new BlockingWriter<v1::ExportAccountsResponse>(ctx);
  domain::ExportOptions options{*siret, request->byte_order_mark(), !request->allow_formulas()};
  bool started = workers_.TryRun([this, stream, call, options = std::move(options)] {
    v1::ExportAccountsResponse piece;
    absl::StatusOr<domain::ExportResult> result =
        domain::ExportAccounts(store_, options, [&](absl::string_view data) -> absl::Status {
          piece.set_data(std::string(data));
          if (!stream->Write(piece)) return absl::CancelledError("the client has gone");
          return absl::OkStatus();
        });
    if (!result.ok()) {
      stream->Finish(call.Logged(ToGrpcStatus(result.status())));
      return;
    }
    v1::ExportAccountsResponse last;
    last.set_row_count(result->rows);
    last.set_consistency_token(habilis::EncodeConsistencyToken(result->revision));
    stream->Finish(call.Logged(stream->Write(last) ? grpc::Status::OK : grpc::Status::CANCELLED));
  });
  if (!started) stream->Finish(call.Logged(Busy()));
  return stream;
}

namespace {

// The status of a stream's first message: OK when there is one.
grpc::Status FirstMessage(ImportStream& stream, v1::ImportAccountsRequest& message, const std::string& method) {
  switch (stream.Read(message)) {
    case ImportStream::Next::kMessage:
      return grpc::Status::OK;
    case ImportStream::Next::kEnd:
      return grpc::Status::CANCELLED;
    case ImportStream::Next::kUndecodable:
      return UndecodableRequest(method);
  }
  return grpc::Status::CANCELLED;
}

// Feeds the file's pieces to `import`, from `message` (the first) to the end of the stream.
grpc::Status FeedFile(ImportStream& stream, v1::ImportAccountsRequest& message, domain::AccountImport& import,
                      const std::string& method) {
  size_t received_bytes = 0;
  ImportStream::Next next = ImportStream::Next::kMessage;
  for (; next == ImportStream::Next::kMessage; next = stream.Read(message)) {
    received_bytes += message.data().size();
    if (received_bytes > kMaxImportBytes) {
      return ToGrpcStatus(Error(absl::StatusCode::kResourceExhausted, "FILE_TOO_LARGE",
                                "the file is larger than 512 MiB: split it and import each part"));
    }
    import.Feed(message.data());
  }
  // Nothing was written: the store is read at Finish only.
  if (next == ImportStream::Next::kUndecodable) return UndecodableRequest(method);
  return grpc::Status::OK;
}

// Checks and applies the file, streaming the bad rows as they are found, then the summary.
grpc::Status FinishImport(ImportStream& stream, domain::AccountImport& import) {
  bool client_here = true;
  absl::StatusOr<v1::ImportSummary> summary = import.Finish([&](const std::vector<v1::RowError>& errors) {
    if (!client_here) return;
    v1::ImportAccountsResponse response;
    for (const v1::RowError& error : errors) *response.add_row_errors() = error;
    client_here = stream.Write(response);
  });
  if (!summary.ok()) return ToGrpcStatus(summary.status());
  v1::ImportAccountsResponse last;
  *last.mutable_summary() = *std::move(summary);
  return stream.Write(last) ? grpc::Status::OK : grpc::Status::CANCELLED;
}

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* AccountFileService::ImportAccounts(
    grpc::CallbackServerContext* ctx) {
  auto stream = std::make_shared<ImportStream>(ctx);
  const std::string& method = MethodOf<v1::ImportAccountsRequest>();
  const absl::Time received = absl::Now();
  bool started = workers_.TryRun([this, stream, ctx, &method, received] {
    StreamCall call{method, received, ""};
    stream->Finish(call.Logged(Import(*stream, ctx, call)));
  });
  if (!started) stream->Finish(StreamCall{method, received, ""}.Logged(Busy()));
  return stream->reactor();
}

grpc::Status AccountFileService::Import(ImportStream& stream, grpc::CallbackServerContext* ctx, StreamCall& call) {
  const std::string& method = call.method;
  // The first message says where the file goes, and who may send it there.
  v1::ImportAccountsRequest message;
  if (grpc::Status first = FirstMessage(stream, message, method); !first.ok()) return first;
  std::optional<std::string> siret = domain::ParseStructureName(message.parent());
  if (!siret) return ToGrpcStatus(InvalidField("parent", "NAME_FORMAT", "the first message names structures/{siret}"));
  Gate::Judgement judgement = context_.gate.Judge(*ctx, method, authz::Target{.structure = *siret});
  const absl::StatusOr<authz::Principal>& caller = judgement.caller;
  if (!caller.ok()) {
    message.clear_data();
    RecordRefusal(context_, judgement, caller.status(), message);  // an import grants profiles
    return ToGrpcStatus(caller.status());
  }
  call.principal = caller->ResourceName();
  domain::AccountImport import(store_, clock_, policy_, *caller, domain::AuditContextOf(*caller, message, ""),
                               {.siret = *siret, .validate_only = message.validate_only()});
  if (grpc::Status fed = FeedFile(stream, message, import, method); !fed.ok()) return fed;
  if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
  return FinishImport(stream, import);
}

}  // namespace habilis::api
