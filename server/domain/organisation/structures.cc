#include "server/domain/organisation/structures.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/clock.h"
#include "server/common/errors.h"
#include "server/common/paging.h"
#include "server/common/status_macros.h"
#include "server/common/text.h"
#include "server/domain/commands/mutation.h"
#include "server/domain/identity/account_records.h"
#include "server/domain/kernel/records.h"
#include "server/domain/kernel/resource_names.h"
#include "server/domain/organisation/siret.h"
#include "store/keyspace.h"

namespace habilis::domain {
namespace {

// STR-EDIT: everything but the SIRET (and what derives from it).
const std::set<std::string, std::less<>> kMutableFields = {"display_name", "category",      "address",
                                                           "postal_code",  "city",          "country",
                                                           "canton",       "contact_phone", "contact_email"};

template <typename Predicate>
bool AllOf(absl::string_view s, Predicate pred) {
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void CheckSiretField(FieldViolations& violations, absl::string_view field, absl::string_view siret) {
  switch (CheckSiret(siret)) {
    case SiretCheck::kValid:
      return;
    case SiretCheck::kNotFourteenDigits:
      violations.Add(field, "SIRET_FORMAT", "must be exactly 14 digits (SIREN 9 + NIC 5)");
      return;
    case SiretCheck::kBadChecksum:
      violations.Add(field, "SIRET_CHECKSUM", "fails the Luhn check: verify the digits");
      return;
  }
}

// Every rule on the fields of a structure; `prefix` is the request path of the structure.
void CheckStructureFields(FieldViolations& violations, const v1::Structure& s) {
  CheckText(violations, "structure.display_name", s.display_name(), 200, true);
  CheckText(violations, "structure.category", s.category(), 100, true);
  CheckText(violations, "structure.address", s.address(), 300, true);
  CheckText(violations, "structure.city", s.city(), 100, true);
  CheckText(violations, "structure.canton", s.canton(), 100, false);
  bool country_ok = s.country().size() == 2 && AllOf(s.country(), absl::ascii_isupper);
  if (!country_ok) {
    violations.Add("structure.country", "COUNTRY_CODE", "must be an ISO 3166-1 alpha-2 code such as FR");
  }
  if (!s.contact_phone().empty() && !IsPhone(s.contact_phone())) {
    violations.Add("structure.contact_phone", "PHONE_FORMAT", "must be up to 30 digits, spaces and + . - ( )");
  }
  if (!s.contact_email().empty() && !IsEmail(s.contact_email())) {
    violations.Add("structure.contact_email", "EMAIL_FORMAT", "must be an e-mail address such as mairie@example.fr");
  }
  const std::string& postal = s.postal_code();
  if (postal.empty()) {
    violations.Add("structure.postal_code", "REQUIRED", "is required");
  } else if (s.country() == "FR") {
    if (postal.size() != 5 || !AllOf(postal, absl::ascii_isdigit)) {
      violations.Add("structure.postal_code", "POSTAL_CODE_FORMAT", "must be 5 digits in France");
    }
  } else if (postal.size() > 16 ||
             !AllOf(postal, [](unsigned char c) { return absl::ascii_isalnum(c) || c == ' ' || c == '-'; })) {
    violations.Add("structure.postal_code", "POSTAL_CODE_FORMAT", "must be 1 to 16 letters, digits, spaces or '-'");
  }
}

void Normalize(v1::Structure& s) {
  s.set_display_name(NormalizeSpaces(s.display_name()));
  s.set_category(NormalizeSpaces(s.category()));
  s.set_address(NormalizeSpaces(s.address()));
  s.set_city(NormalizeSpaces(s.city()));
  s.set_canton(NormalizeSpaces(s.canton()));
  s.set_postal_code(NormalizeSpaces(s.postal_code()));
  s.set_contact_phone(NormalizeSpaces(s.contact_phone()));
  s.set_contact_email(NormalizeSpaces(s.contact_email()));
}

void CopyField(const std::string& field, const v1::Structure& from, v1::Structure& to) {
  const auto* descriptor = v1::Structure::descriptor()->FindFieldByName(field);
  const auto* reflection = v1::Structure::GetReflection();
  reflection->SetString(&to, descriptor, reflection->GetString(from, descriptor));
}

absl::Status NotFound(absl::string_view siret) {
  return Error(absl::StatusCode::kNotFound, "STRUCTURE_NOT_FOUND",
               absl::StrCat("structure ", siret, " does not exist"));
}

}  // namespace

absl::StatusOr<store::Revision> Structures::Create(const authz::Principal& caller,
                                                   const v1::CreateStructureRequest& request,
                                                   v1::CreateStructureResponse& response) {
  v1::Structure structure;
  const v1::Structure& in = request.structure();
  structure.set_siret(in.siret());
  structure.set_display_name(in.display_name());
  structure.set_category(in.category());
  structure.set_contact_phone(in.contact_phone());
  structure.set_contact_email(in.contact_email());
  structure.set_address(in.address());
  structure.set_postal_code(in.postal_code());
  structure.set_city(in.city());
  structure.set_country(in.country().empty() ? "FR" : in.country());
  structure.set_canton(in.canton());

  FieldViolations violations;
  CheckSiretField(violations, "structure.siret", in.siret());
  CheckStructureFields(violations, structure);
  RETURN_IF_ERROR(violations.ToStatus());
  Normalize(structure);

  const std::string siret = in.siret();
  structure.set_name(StructureName(siret));
  structure.set_siren(std::string(SirenOf(siret)));
  structure.set_nic(std::string(NicOf(siret)));
  absl::Time now = clock_.Now();
  SetTimestamp(now, structure.mutable_create_time());
  SetTimestamp(now, structure.mutable_update_time());
  structure.set_etag(ComputeEtag(structure));

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       const std::string key = store::StructureKey(siret);
                       ASSIGN_OR_RETURN(bool exists, Exists(txn, key));
                       if (exists) {
                         return Error(absl::StatusCode::kAlreadyExists, "STRUCTURE_EXISTS",
                                      absl::StrCat("a structure with SIRET ", siret, " already exists"));
                       }
                       RETURN_IF_ERROR(StoreRecord(txn, key, structure));
                       *response.mutable_structure() = structure;
                       return absl::OkStatus();
                     });
}

absl::Status Structures::Get(const v1::GetStructureRequest& request, v1::GetStructureResponse& response) {
  std::optional<std::string> siret = ParseStructureName(request.name());
  if (!siret) return InvalidField("name", "NAME_FORMAT", "must be structures/{siret} with a 14-digit SIRET");
  return store_
      .Read([&](store::Reader& reader) {
        return LoadRecord(reader, store::StructureKey(*siret), *response.mutable_structure(), "STRUCTURE_NOT_FOUND",
                          absl::StrCat("structure ", *siret, " does not exist"));
      })
      .status();
}

absl::Status Structures::List(const v1::ListStructuresRequest& request, v1::ListStructuresResponse& response) {
  return store_
      .Read([&](store::Reader& reader) {
        return ReadPage(
            reader, store::StructurePrefix(), request.page_size(), request.page_token(),
            [&](absl::string_view) { return response.add_structures(); }, response.mutable_next_page_token());
      })
      .status();
}

absl::StatusOr<store::Revision> Structures::Update(const authz::Principal& caller,
                                                   const v1::UpdateStructureRequest& request,
                                                   v1::UpdateStructureResponse& response) {
  const v1::Structure& in = request.structure();
  std::optional<std::string> siret = ParseStructureName(in.name());
  if (!siret) {
    return InvalidField("structure.name", "NAME_FORMAT", "must be structures/{siret} with a 14-digit SIRET");
  }
  std::vector<std::string> paths;
  for (const std::string& path : request.update_mask().paths()) {
    if (path == "*") {
      paths.assign(kMutableFields.begin(), kMutableFields.end());
      break;
    }
    if (!kMutableFields.contains(path)) {
      return InvalidField("update_mask", "FIELD_NOT_UPDATABLE",
                          absl::StrCat("'", path,
                                       "' cannot be updated; allowed: display_name, category, address, "
                                       "postal_code, city, country, canton, contact_phone, contact_email"));
    }
    paths.push_back(path);
  }
  if (request.update_mask().paths().empty()) {
    for (const std::string& field : kMutableFields) {
      const auto* descriptor = v1::Structure::descriptor()->FindFieldByName(field);
      if (!v1::Structure::GetReflection()->GetString(in, descriptor).empty()) paths.push_back(field);
    }
  }

  return RunMutation(store_, caller, request, {request.request_id(), request.validate_only(), clock_.Now()}, response,
                     [&](store::Transaction& txn) -> absl::Status {
                       v1::Structure structure;
                       const std::string key = store::StructureKey(*siret);
                       absl::Status loaded = LoadRecord(txn, key, structure, "STRUCTURE_NOT_FOUND", "");
                       if (absl::IsNotFound(loaded)) return NotFound(*siret);
                       RETURN_IF_ERROR(loaded);
                       if (!in.etag().empty() && in.etag() != structure.etag()) {
                         return Error(absl::StatusCode::kAborted, "ETAG_MISMATCH",
                                      "the structure changed since it was read; read it again and retry");
                       }
                       for (const std::string& path : paths) CopyField(path, in, structure);
                       FieldViolations violations;
                       CheckStructureFields(violations, structure);
                       RETURN_IF_ERROR(violations.ToStatus());
                       Normalize(structure);
                       SetTimestamp(clock_.Now(), structure.mutable_update_time());
                       structure.set_etag(ComputeEtag(structure));
                       RETURN_IF_ERROR(StoreRecord(txn, key, structure));
                       *response.mutable_structure() = structure;
                       return absl::OkStatus();
                     });
}

}  // namespace habilis::domain
