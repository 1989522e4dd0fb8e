// The org chart: SVC-CREATE, SVC-RENAME, moves, SVC-MERGE, SVC-DELETE and the tree.
#include <atomic>
#include <thread>

#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

class OrgChartTest : public DomainTest {
 protected:
  void SetUp() override {
    DomainTest::SetUp();
    ASSERT_TRUE(CreateStructure().ok());
  }

  absl::Status Rename(const std::string& id, const std::string& display_name, const std::string& type = "") {
    v1::UpdateServiceRequest request;
    request.mutable_service()->set_name(Service(id));
    request.mutable_service()->set_display_name(display_name);
    request.mutable_service()->set_service_type(type);
    request.mutable_update_mask()->add_paths("display_name");
    request.mutable_update_mask()->add_paths("service_type");
    v1::UpdateServiceResponse response;
    return org_chart_->UpdateService(operator_, request, response).status();
  }

  absl::Status Move(const std::string& id, const std::string& parent_id) {
    v1::UpdateServiceRequest request;
    request.mutable_service()->set_name(Service(id));
    if (!parent_id.empty()) request.mutable_service()->set_parent(Service(parent_id));
    request.mutable_update_mask()->add_paths("parent");
    v1::UpdateServiceResponse response;
    return org_chart_->UpdateService(operator_, request, response).status();
  }

  absl::StatusOr<v1::MergeServicesResponse> Merge(const std::vector<std::string>& sources, const std::string& target,
                                                  bool validate_only = false) {
    v1::MergeServicesRequest request;
    request.set_parent(StructureName(kSiret));
    for (const std::string& id : sources) request.add_sources(Service(id));
    request.set_target(target.empty() ? "" : Service(target));
    request.set_validate_only(validate_only);
    v1::MergeServicesResponse response;
    absl::StatusOr<store::Revision> revision = org_chart_->MergeServices(operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response;
  }

  absl::Status Delete(const std::vector<std::string>& ids) {
    v1::BatchDeleteServicesRequest request;
    request.set_parent(StructureName(kSiret));
    for (const std::string& id : ids) request.add_names(Service(id));
    v1::BatchDeleteServicesResponse response;
    return org_chart_->BatchDeleteServices(operator_, request, response).status();
  }

  std::string ParentOf(const std::string& id) {
    absl::StatusOr<v1::Service> service = GetService(id);
    EXPECT_TRUE(service.ok()) << id;
    return service.ok() ? service->parent() : "?";
  }

  bool Exists(const std::string& id) { return GetService(id).ok(); }

  // direction > {rh, finances > paie}, accueil
  void BuildChart() {
    ASSERT_TRUE(CreateService("direction", "Direction").ok());
    ASSERT_TRUE(CreateService("rh", "Ressources humaines", "direction").ok());
    ASSERT_TRUE(CreateService("finances", "Finances", "direction").ok());
    ASSERT_TRUE(CreateService("paie", "Paie", "finances").ok());
    ASSERT_TRUE(CreateService("accueil", "Accueil").ok());
  }
};

TEST_F(OrgChartTest, SVC_CREATE_defaultParentIsTheRootLevel) {
  absl::StatusOr<v1::Service> service = CreateService("accueil", "Accueil");
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->name(), "structures/73282932000074/services/accueil");
  EXPECT_EQ(service->parent(), "");
}

TEST_F(OrgChartTest, SVC_CREATE_nameIsRequired) {
  absl::StatusOr<v1::Service> service = CreateService("vide", "   ");
  EXPECT_EQ(service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(service.status()), "REQUIRED");
}

TEST_F(OrgChartTest, SVC_CREATE_nameIsUniqueIgnoringCase) {
  ASSERT_TRUE(CreateService("rh", "Ressources humaines").ok());
  absl::StatusOr<v1::Service> again = CreateService("rh2", "  RESSOURCES   Humaines ");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ErrorReason(again.status()), "SERVICE_NAME_TAKEN");
}

TEST_F(OrgChartTest, SVC_CREATE_underAnExistingParentOfTheSameStructure) {
  ASSERT_TRUE(CreateService("direction", "Direction").ok());
  EXPECT_TRUE(CreateService("rh", "RH", "direction").ok());
  EXPECT_EQ(CreateService("x", "X", "absent").status().code(), absl::StatusCode::kNotFound);

  v1::CreateServiceRequest request;
  request.set_parent(StructureName(kSiret));
  request.mutable_service()->set_display_name("Ailleurs");
  request.mutable_service()->set_parent("structures/44306184100047/services/direction");
  v1::CreateServiceResponse response;
  EXPECT_EQ(ErrorReason(org_chart_->CreateService(operator_, request, response).status()), "OTHER_STRUCTURE");
}

TEST_F(OrgChartTest, SVC_CREATE_generatesAnIdWhenNoneIsGiven) {
  v1::CreateServiceRequest request;
  request.set_parent(StructureName(kSiret));
  request.mutable_service()->set_display_name("Courrier");
  v1::CreateServiceResponse response;
  ASSERT_TRUE(org_chart_->CreateService(operator_, request, response).ok());
  EXPECT_TRUE(ParseServiceName(response.service().name()).has_value()) << response.service().name();
}

TEST_F(OrgChartTest, SVC_CREATE_inAMissingStructureIsNotFound) {
  v1::CreateServiceRequest request;
  request.set_parent("structures/44306184100047");
  request.mutable_service()->set_display_name("Accueil");
  v1::CreateServiceResponse response;
  EXPECT_EQ(ErrorReason(org_chart_->CreateService(operator_, request, response).status()), "STRUCTURE_NOT_FOUND");
}

TEST_F(OrgChartTest, SVC_CREATE_concurrentCreationsOfOneNameLeaveOneService) {
  std::atomic<int> created = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      if (CreateService("svc" + std::to_string(t), "Même nom").ok()) ++created;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(Tree().service_count(), 1);
}

TEST_F(OrgChartTest, SVC_RENAME_changesNameAndTypeAndFreesTheOldName) {
  ASSERT_TRUE(CreateService("rh", "RH").ok());
  ASSERT_TRUE(Rename("rh", "Ressources humaines", "DRH").ok());
  absl::StatusOr<v1::Service> service = GetService("rh");
  EXPECT_EQ(service->display_name(), "Ressources humaines");
  EXPECT_EQ(service->service_type(), "DRH");
  EXPECT_TRUE(CreateService("other", "rh").ok()) << "the old name is free again";
}

TEST_F(OrgChartTest, SVC_RENAME_toTheNameOfAnotherServiceIsRefused) {
  ASSERT_TRUE(CreateService("rh", "RH").ok());
  ASSERT_TRUE(CreateService("paie", "Paie").ok());
  EXPECT_EQ(ErrorReason(Rename("paie", "rh")), "SERVICE_NAME_TAKEN");
  EXPECT_TRUE(Rename("rh", "Rh").ok()) << "a change of case of its own name is allowed";
}

TEST_F(OrgChartTest, SVC_RENAME_honoursTheEtag) {
  absl::StatusOr<v1::Service> service = CreateService("rh", "RH");
  ASSERT_TRUE(Rename("rh", "RH 2").ok());
  v1::UpdateServiceRequest request;
  *request.mutable_service() = *service;  // carries the old etag
  request.mutable_service()->set_display_name("RH 3");
  request.mutable_update_mask()->add_paths("display_name");
  v1::UpdateServiceResponse response;
  EXPECT_EQ(ErrorReason(org_chart_->UpdateService(operator_, request, response).status()), "ETAG_MISMATCH");
}

TEST_F(OrgChartTest, MoveUnderAnotherParentAndBackToTheRoot) {
  BuildChart();
  ASSERT_TRUE(Move("paie", "rh").ok());
  EXPECT_EQ(ParentOf("paie"), Service("rh"));
  ASSERT_TRUE(Move("paie", "").ok());
  EXPECT_EQ(ParentOf("paie"), "");
}

TEST_F(OrgChartTest, MoveUnderItsOwnDescendantIsRefused) {
  BuildChart();
  absl::Status status = Move("direction", "paie");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(status), "SERVICE_CYCLE");
  EXPECT_EQ(ErrorReason(Move("direction", "direction")), "PARENT_IS_SELF");
  EXPECT_EQ(ParentOf("direction"), "");
}

TEST_F(OrgChartTest, SVC_MERGE_needsThreeServices) {
  ASSERT_TRUE(CreateService("a", "A").ok());
  ASSERT_TRUE(CreateService("b", "B").ok());
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"a", "x"}, "b");
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(merged.status()), "MERGE_NEEDS_THREE_SERVICES");
}

TEST_F(OrgChartTest, SVC_MERGE_aStructureOfTwoServicesAnswersTheRuleWhateverTheRequestsShape) {
  ASSERT_TRUE(CreateService("a", "A").ok());
  ASSERT_TRUE(CreateService("b", "B").ok());
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"a"}, "b");
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(merged.status()), "MERGE_NEEDS_THREE_SERVICES") << "not MERGE_NEEDS_TWO_SOURCES";
}

TEST_F(OrgChartTest, SVC_MERGE_needsTwoSources) {
  BuildChart();
  EXPECT_EQ(ErrorReason(Merge({"rh"}, "accueil").status()), "MERGE_NEEDS_TWO_SOURCES");
}

TEST_F(OrgChartTest, SVC_MERGE_targetIsNotASource) {
  BuildChart();
  EXPECT_EQ(ErrorReason(Merge({"rh", "accueil"}, "rh").status()), "MERGE_TARGET_IS_SOURCE");
}

TEST_F(OrgChartTest, SVC_MERGE_selectingEveryServiceIsRefused) {
  ASSERT_TRUE(CreateService("a", "A").ok());
  ASSERT_TRUE(CreateService("b", "B").ok());
  ASSERT_TRUE(CreateService("c", "C").ok());
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"a", "b", "c"}, "d");
  EXPECT_EQ(ErrorReason(merged.status()), "MERGE_SELECTS_EVERY_SERVICE");
}

TEST_F(OrgChartTest, SVC_MERGE_selectingEveryServiceWithTheTargetAmongThemIsRefusedAsSuch) {
  ASSERT_TRUE(CreateService("a", "A").ok());
  ASSERT_TRUE(CreateService("b", "B").ok());
  ASSERT_TRUE(CreateService("c", "C").ok());
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"a", "b", "c"}, "c");
  EXPECT_EQ(merged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(merged.status()), "MERGE_SELECTS_EVERY_SERVICE") << "not MERGE_TARGET_IS_SOURCE";
}

TEST_F(OrgChartTest, SVC_MERGE_sourcesDisappearAndTheirChildrenMoveUnderTheTarget) {
  BuildChart();
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"finances", "accueil"}, "rh");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_FALSE(Exists("finances"));
  EXPECT_FALSE(Exists("accueil"));
  EXPECT_EQ(ParentOf("paie"), Service("rh"));
  ASSERT_EQ(merged->moved_services_size(), 1);
  EXPECT_EQ(merged->moved_services(0), Service("paie"));
  EXPECT_EQ(merged->removed_services_size(), 2);
  EXPECT_EQ(Tree().service_count(), 3);
  EXPECT_TRUE(CreateService("f2", "Finances").ok()) << "the names of merged services are free again";
}

TEST_F(OrgChartTest, SVC_MERGE_aTargetBelowASourceTakesItsPlace) {
  BuildChart();
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"direction", "finances"}, "paie");
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(ParentOf("paie"), "") << "paie climbs above its merged ancestors";
  EXPECT_EQ(ParentOf("rh"), Service("paie"));
}

TEST_F(OrgChartTest, SVC_MERGE_aMissingSourceChangesNothing) {
  BuildChart();
  store::Revision before = store_->LatestRevision().value();
  EXPECT_EQ(Merge({"finances", "absent"}, "rh").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->LatestRevision().value(), before);
  EXPECT_TRUE(Exists("finances"));
  EXPECT_EQ(ParentOf("paie"), Service("finances"));
}

TEST_F(OrgChartTest, SVC_MERGE_validateOnlyReportsWithoutWriting) {
  BuildChart();
  absl::StatusOr<v1::MergeServicesResponse> merged = Merge({"finances", "accueil"}, "rh", /*validate_only=*/true);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->removed_services_size(), 2);
  EXPECT_TRUE(Exists("finances"));
  EXPECT_TRUE(Exists("accueil"));
  EXPECT_EQ(ParentOf("paie"), Service("finances"));
}

TEST_F(OrgChartTest, SVC_DELETE_severalAtOnce) {
  BuildChart();
  ASSERT_TRUE(Delete({"accueil", "rh"}).ok());
  EXPECT_FALSE(Exists("accueil"));
  EXPECT_FALSE(Exists("rh"));
  EXPECT_EQ(Tree().service_count(), 3);
}

TEST_F(OrgChartTest, SVC_DELETE_refusedWhileAChildIsAttachedAndAllOrNothing) {
  BuildChart();
  absl::Status status = Delete({"accueil", "finances"});
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ErrorReason(status), "SERVICE_HAS_CHILDREN");
  EXPECT_TRUE(Exists("accueil")) << "nothing is deleted when one service cannot be";
  EXPECT_TRUE(Exists("finances"));
}

TEST_F(OrgChartTest, SVC_DELETE_aParentWithItsChildrenInOneRequest) {
  BuildChart();
  EXPECT_TRUE(Delete({"finances", "paie"}).ok());
}

TEST_F(OrgChartTest, SVC_DELETE_aMissingServiceDeletesNothing) {
  BuildChart();
  EXPECT_EQ(Delete({"accueil", "absent"}).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Exists("accueil"));
}

TEST_F(OrgChartTest, TheTreeNestsServicesInNameOrderWithCounts) {
  BuildChart();
  v1::GetServiceTreeResponse tree = Tree();
  EXPECT_EQ(tree.service_count(), 5);
  ASSERT_EQ(tree.roots_size(), 2);
  EXPECT_EQ(tree.roots(0).service().display_name(), "Accueil");
  const v1::ServiceNode& direction = tree.roots(1);
  EXPECT_EQ(direction.service().display_name(), "Direction");
  EXPECT_EQ(direction.descendant_count(), 3);
  ASSERT_EQ(direction.children_size(), 2);
  EXPECT_EQ(direction.children(0).service().display_name(), "Finances");
  EXPECT_EQ(direction.children(0).descendant_count(), 1);
  EXPECT_EQ(direction.children(1).service().display_name(), "Ressources humaines");
}

TEST_F(OrgChartTest, ListServicesPages) {
  BuildChart();
  v1::ListServicesRequest request;
  request.set_parent(StructureName(kSiret));
  request.set_page_size(3);
  std::vector<std::string> ids;
  do {
    v1::ListServicesResponse page;
    ASSERT_TRUE(org_chart_->ListServices(request, page).ok());
    for (const auto& s : page.services()) ids.push_back(ParseServiceName(s.name())->service_id);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(ids, (std::vector<std::string>{"accueil", "direction", "finances", "paie", "rh"}));
}

}  // namespace
}  // namespace habilis::domain
