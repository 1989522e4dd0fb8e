// A real RocksDB store in a temp directory, a fixed clock and an operator: what domain tests start from.
#ifndef HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_
#define HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/errors.h"
#include "server/domain/api_keys.h"
#include "server/domain/org_chart.h"
#include "server/domain/resource_names.h"
#include "server/domain/structures.h"
#include "store/rocksdb/rocksdb_store.h"
#include "tests/testing/temp_dir.h"

namespace habilis::testing {

class FixedClock final : public domain::Clock {
 public:
  absl::Time Now() const override { return now; }
  absl::Time now = absl::FromUnixSeconds(1798761600);  // 2027-01-01
};

class DomainTest : public ::testing::Test {
 protected:
  static constexpr char kSiret[] = "73282932000074";

  void SetUp() override {
    auto store = store::RocksDbStore::Open(dir_.Sub("db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
    structures_ = std::make_unique<domain::Structures>(*store_, clock_);
    org_chart_ = std::make_unique<domain::OrgChart>(*store_, clock_);
  }

  v1::CreateStructureRequest StructureRequest(const std::string& siret) {
    v1::CreateStructureRequest request;
    v1::Structure* s = request.mutable_structure();
    s->set_siret(siret);
    s->set_display_name("Mairie de Test");
    s->set_address("1 rue de la Paix");
    s->set_postal_code("35000");
    s->set_city("Rennes");
    return request;
  }

  absl::Status CreateStructure(const std::string& siret = kSiret) {
    v1::CreateStructureResponse response;
    return structures_->Create(operator_, StructureRequest(siret), response).status();
  }

  // Creates service `id` named `display_name` under `parent_id` ("" = root) in kSiret.
  absl::StatusOr<v1::Service> CreateService(const std::string& id, const std::string& display_name,
                                            const std::string& parent_id = "") {
    v1::CreateServiceRequest request;
    request.set_parent(domain::StructureName(kSiret));
    request.set_service_id(id);
    request.mutable_service()->set_display_name(display_name);
    if (!parent_id.empty()) request.mutable_service()->set_parent(Service(parent_id));
    v1::CreateServiceResponse response;
    absl::StatusOr<store::Revision> revision = org_chart_->CreateService(operator_, request, response);
    if (!revision.ok()) return revision.status();
    return response.service();
  }

  static std::string Service(const std::string& id) { return domain::ServiceResourceName(kSiret, id); }

  absl::StatusOr<v1::Service> GetService(const std::string& id) {
    v1::GetServiceRequest request;
    request.set_name(Service(id));
    v1::GetServiceResponse response;
    absl::Status status = org_chart_->GetService(request, response);
    if (!status.ok()) return status;
    return response.service();
  }

  v1::GetServiceTreeResponse Tree() {
    v1::GetServiceTreeRequest request;
    request.set_structure(domain::StructureName(kSiret));
    v1::GetServiceTreeResponse response;
    EXPECT_TRUE(org_chart_->GetServiceTree(request, response).ok());
    return response;
  }

  TempDir dir_;
  FixedClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<domain::Structures> structures_;
  std::unique_ptr<domain::OrgChart> org_chart_;
  authz::Principal operator_ = authz::Principal::Operator("0123456789abcdef");
};

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_DOMAIN_FIXTURE_H_
