// AccountFileService: CSV export and import, each call on a thread of its own.
#include <utility>

#include "server/api/services.h"
#include "server/domain/resource_names.h"

namespace habilis::api {
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
  std::optional<std::string> siret = domain::ParseStructureName(request->parent());
  if (!siret) {
    return new Refused<Reactor>(ToGrpcStatus(InvalidField("parent", "NAME_FORMAT", "must be structures/{siret}")));
  }
  absl::StatusOr<authz::Principal> caller =
      context_.gate.Admit(*ctx, MethodOf<v1::ExportAccountsRequest>(), authz::Target{.structure = *siret});
  if (!caller.ok()) return new Refused<Reactor>(ToGrpcStatus(caller.status()));

  auto* stream = new BlockingWriter<v1::ExportAccountsResponse>(ctx);
  domain::ExportOptions options{*siret, request->byte_order_mark(), !request->allow_formulas()};
  bool started = workers_.TryRun([this, stream, options = std::move(options)] {
    v1::ExportAccountsResponse piece;
    absl::StatusOr<domain::ExportResult> result =
        domain::ExportAccounts(store_, options, [&](absl::string_view data) -> absl::Status {
          piece.set_data(std::string(data));
          if (!stream->Write(piece)) return absl::CancelledError("the client has gone");
          return absl::OkStatus();
        });
    if (!result.ok()) {
      stream->Finish(ToGrpcStatus(result.status()));
      return;
    }
    v1::ExportAccountsResponse last;
    last.set_row_count(result->rows);
    last.set_consistency_token(domain::EncodeConsistencyToken(result->revision));
    stream->Finish(stream->Write(last) ? grpc::Status::OK : grpc::Status::CANCELLED);
  });
  if (!started) stream->Finish(Busy());
  return stream;
}

grpc::ServerBidiReactor<v1::ImportAccountsRequest, v1::ImportAccountsResponse>* AccountFileService::ImportAccounts(
    grpc::CallbackServerContext* ctx) {
  auto* stream = new BlockingBidi<v1::ImportAccountsRequest, v1::ImportAccountsResponse>(ctx);
  bool started = workers_.TryRun([this, stream, ctx] {
    // The first message says where the file goes, and who may send it there.
    v1::ImportAccountsRequest message;
    if (!stream->Read(message)) {
      stream->Finish(grpc::Status::CANCELLED);
      return;
    }
    std::optional<std::string> siret = domain::ParseStructureName(message.parent());
    if (!siret) {
      stream->Finish(ToGrpcStatus(InvalidField("parent", "NAME_FORMAT", "the first message names structures/{siret}")));
      return;
    }
    Gate::Judgement judgement =
        context_.gate.Judge(*ctx, MethodOf<v1::ImportAccountsRequest>(), authz::Target{.structure = *siret});
    const absl::StatusOr<authz::Principal>& caller = judgement.caller;
    if (!caller.ok()) {
      message.clear_data();
      RecordRefusal(context_, judgement, caller.status(), message);  // an import grants profiles
      stream->Finish(ToGrpcStatus(caller.status()));
      return;
    }
    domain::AuditContext audit = domain::AuditContextOf(*caller, message, "");
    domain::AccountImport import(store_, clock_, policy_, *caller, std::move(audit),
                                 {.siret = *siret, .validate_only = message.validate_only()});
    size_t received = 0;
    do {
      received += message.data().size();
      if (received > kMaxImportBytes) {
        stream->Finish(ToGrpcStatus(Error(absl::StatusCode::kResourceExhausted, "FILE_TOO_LARGE",
                                          "the file is larger than 512 MiB: split it and import each part")));
        return;
      }
      import.Feed(message.data());
      message.Clear();
    } while (stream->Read(message));
    if (ctx->IsCancelled()) {
      stream->Finish(grpc::Status::CANCELLED);
      return;
    }

    bool client_here = true;
    absl::StatusOr<v1::ImportSummary> summary = import.Finish([&](const std::vector<v1::RowError>& errors) {
      if (!client_here) return;
      v1::ImportAccountsResponse response;
      for (const v1::RowError& error : errors) *response.add_row_errors() = error;
      client_here = stream->Write(response);
    });
    if (!summary.ok()) {
      stream->Finish(ToGrpcStatus(summary.status()));
      return;
    }
    v1::ImportAccountsResponse last;
    *last.mutable_summary() = *std::move(summary);
    stream->Finish(stream->Write(last) ? grpc::Status::OK : grpc::Status::CANCELLED);
  });
  if (!started) stream->Finish(Busy());
  return stream;
}

}  // namespace habilis::api
