// Paging and consistency tokens: what a list or a read hands back to a client, opaque to it.
#ifndef HABILIS_SERVER_COMMON_PAGING_H_
#define HABILIS_SERVER_COMMON_PAGING_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "store/store.h"

namespace habilis {

// Page size of a list request: 100 when 0; INVALID_ARGUMENT outside 0..1000.
absl::StatusOr<int> PageSize(int32_t requested);

// Page tokens are opaque to clients: they carry the last id of the previous page.
std::string EncodePageToken(absl::string_view last_id);
// The key that signs page tokens. Each process makes one at random unless told the store's
// (UsePageTokenKeyOf), which every node of a store shares and which survives restarts.
void SetPageTokenKey(absl::string_view key);
// Reads the store's page-token key (meta "page_token_key"), making it on first use, and uses it.
[[nodiscard]] absl::Status UsePageTokenKeyOf(store::Store& store);
// "" for an empty token; INVALID_ARGUMENT for a token this server did not make.
absl::StatusOr<std::string> DecodePageToken(absl::string_view token);

// Reads one page of the records stored under `prefix`, in key order, after the key carried by `page_token`.
// Each value is parsed into the message `add(id)` returns, `id` being the first component after the prefix;
// when more records follow, *next_page_token is set.
[[nodiscard]] absl::Status ReadPage(store::Reader& reader, absl::string_view prefix, int32_t page_size,
                                    absl::string_view page_token,
                                    absl::FunctionRef<google::protobuf::Message*(absl::string_view id)> add,
                                    std::string* next_page_token);

// Consistency tokens are opaque to clients: they carry a store revision.
std::string EncodeConsistencyToken(store::Revision revision);
// The revision `token` carries; nullopt if it is not a token EncodeConsistencyToken made.
std::optional<store::Revision> DecodeConsistencyToken(absl::string_view token);

}  // namespace habilis

#endif  // HABILIS_SERVER_COMMON_PAGING_H_
