// Structures: STR-1 and the standard methods.
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class StructuresTest : public DomainTest {};

TEST_F(StructuresTest, STR_1_createDerivesSirenAndNicAndDefaultsCountry) {
  v1::CreateStructureResponse response;
  ASSERT_TRUE(structures_->Create(operator_, StructureRequest(kSiret), response).ok());
  EXPECT_EQ(response.structure().name(), "structures/73282932000074");
  EXPECT_EQ(response.structure().siren(), "732829320");
  EXPECT_EQ(response.structure().nic(), "00074");
  EXPECT_EQ(response.structure().country(), "FR");
  EXPECT_FALSE(response.structure().etag().empty());
}

TEST_F(StructuresTest, STR_1_siretIsUnique) {
  ASSERT_TRUE(CreateStructure().ok());
  absl::Status again = CreateStructure();
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorReason(again), "STRUCTURE_EXISTS");
}

TEST_F(StructuresTest, STR_1_badChecksumIsRefusedAndNothingIsWritten) {
  store::Revision before = store_->LatestRevision().value();
  absl::Status status = CreateStructure("73282932000075");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(status), "SIRET_CHECKSUM");
  EXPECT_EQ(store_->LatestRevision().value(), before);
}

TEST_F(StructuresTest, EveryInvalidFieldIsReportedAtOnce) {
  v1::CreateStructureRequest request = StructureRequest("1234");
  request.mutable_structure()->set_display_name("");
  request.mutable_structure()->set_postal_code("ABCDE");
  request.mutable_structure()->set_country("France");
  v1::CreateStructureResponse response;
  absl::Status status = structures_->Create(operator_, request, response).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : {"structure.siret", "structure.display_name", "structure.country"}) {
    EXPECT_NE(status.message().find(field), absl::string_view::npos) << field << " in " << status.message();
  }
}

TEST_F(StructuresTest, FrenchPostalCodesHaveFiveDigits) {
  v1::CreateStructureRequest request = StructureRequest(kSiret);
  request.mutable_structure()->set_postal_code("3500");
  v1::CreateStructureResponse response;
  EXPECT_EQ(ErrorReason(structures_->Create(operator_, request, response).status()), "POSTAL_CODE_FORMAT");
  request.mutable_structure()->set_country("BE");
  EXPECT_TRUE(structures_->Create(operator_, request, response).ok());
}

TEST_F(StructuresTest, ValidateOnlyAnswersWithoutWriting) {
  v1::CreateStructureRequest request = StructureRequest(kSiret);
  request.set_validate_only(true);
  v1::CreateStructureResponse response;
  ASSERT_TRUE(structures_->Create(operator_, request, response).ok());
  EXPECT_EQ(response.structure().siren(), "732829320");
  v1::GetStructureRequest get;
  get.set_name("structures/73282932000074");
  v1::GetStructureResponse got;
  EXPECT_EQ(structures_->Get(get, got).code(), absl::StatusCode::kNotFound);
}

TEST_F(StructuresTest, ARepeatedRequestIdReturnsTheFirstAnswer) {
  v1::CreateStructureRequest request = StructureRequest(kSiret);
  request.set_request_id("6f1e2d3c-0000-4000-8000-000000000001");
  v1::CreateStructureResponse first, second;
  ASSERT_TRUE(structures_->Create(operator_, request, first).ok());
  ASSERT_TRUE(structures_->Create(operator_, request, second).ok()) << "a retry must not fail with ALREADY_EXISTS";
  EXPECT_EQ(first.structure().etag(), second.structure().etag());

  request.mutable_structure()->set_city("Brest");
  v1::CreateStructureResponse third;
  EXPECT_EQ(ErrorReason(structures_->Create(operator_, request, third).status()), "REQUEST_ID_REUSED");
}

TEST_F(StructuresTest, UpdateChangesOnlyTheMaskedFieldsAndChecksTheEtag) {
  v1::CreateStructureResponse created;
  ASSERT_TRUE(structures_->Create(operator_, StructureRequest(kSiret), created).ok());

  v1::UpdateStructureRequest update;
  update.mutable_structure()->set_name("structures/73282932000074");
  update.mutable_structure()->set_city("Brest");
  update.mutable_structure()->set_display_name("ignored: not in the mask");
  update.mutable_structure()->set_etag(created.structure().etag());
  update.mutable_update_mask()->add_paths("city");
  v1::UpdateStructureResponse updated;
  ASSERT_TRUE(structures_->Update(operator_, update, updated).ok());
  EXPECT_EQ(updated.structure().city(), "Brest");
  EXPECT_EQ(updated.structure().display_name(), "Mairie de Test");
  EXPECT_NE(updated.structure().etag(), created.structure().etag());

  // The etag read before the first update is stale now.
  update.mutable_structure()->set_city("Quimper");
  v1::UpdateStructureResponse stale;
  absl::Status status = structures_->Update(operator_, update, stale).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(ErrorReason(status), "ETAG_MISMATCH");
}

TEST_F(StructuresTest, UpdateRefusesImmutableFields) {
  ASSERT_TRUE(CreateStructure().ok());
  v1::UpdateStructureRequest update;
  update.mutable_structure()->set_name("structures/73282932000074");
  update.mutable_update_mask()->add_paths("siret");
  v1::UpdateStructureResponse response;
  EXPECT_EQ(ErrorReason(structures_->Update(operator_, update, response).status()), "FIELD_NOT_UPDATABLE");
}

TEST_F(StructuresTest, ListPagesThroughEveryStructureInSiretOrder) {
  for (const char* siret : {"73282932000074", "44306184100047", "55210055400013"}) {
    ASSERT_TRUE(CreateStructure(siret).ok());
  }
  std::vector<std::string> seen;
  v1::ListStructuresRequest request;
  request.set_page_size(2);
  do {
    v1::ListStructuresResponse page;
    ASSERT_TRUE(structures_->List(request, page).ok());
    for (const auto& s : page.structures()) seen.push_back(s.siret());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(seen, (std::vector<std::string>{"44306184100047", "55210055400013", "73282932000074"}));
}

TEST_F(StructuresTest, AForgedPageTokenIsRefused) {
  v1::ListStructuresRequest request;
  request.set_page_token("not-a-token");
  v1::ListStructuresResponse response;
  EXPECT_EQ(ErrorReason(structures_->List(request, response)), "PAGE_TOKEN_INVALID");
}

}  // namespace
}  // namespace habilis::domain
