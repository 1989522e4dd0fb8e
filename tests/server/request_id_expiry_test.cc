// AIP-155 request ids are kept for a retention period, then forgotten (RequestIdExpiry).
#include "server/domain/commands/request_id_expiry.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "tests/testing/domain_fixture.h"

namespace habilis::domain {
namespace {

using testing::DomainTest;

constexpr absl::Duration kRetention = absl::Hours(24);

class RequestIdExpiryTest : public DomainTest {
 protected:
  // How many records, and how many by-time index entries, the store holds.
  std::pair<int, int> Counts() {
    int records = 0;
    int dated = 0;
    EXPECT_TRUE(store_
                    ->Read([&](store::Reader& reader) -> absl::Status {
                      RETURN_IF_ERROR(store::ScanPrefix(reader, store::IdempotencyPrefix(),
                                                        [&](absl::string_view, absl::string_view) {
                                                          ++records;
                                                          return true;
                                                        }));
                      return store::ScanPrefix(reader, store::IdempotencyByTimePrefix(),
                                               [&](absl::string_view, absl::string_view) {
                                                 ++dated;
                                                 return true;
                                               });
                    })
                    .ok());
    return {records, dated};
  }

  // `n` records as format 2 wrote them: no time, no by-time key.
  void PutUndatedRecords(int n) {
    ASSERT_TRUE(store_
                    ->Update([&](store::Transaction& txn) -> absl::Status {
                      for (int i = 0; i < n; ++i) {
                        internal::IdempotencyRecord record;
                        record.set_method("habilis.v1.CreateStructureRequest");
                        record.set_request_sha256("digest");
                        RETURN_IF_ERROR(txn.Put(store::IdempotencyKey(operator_.ResourceName(), absl::StrCat("r", i)),
                                                record.SerializeAsString()));
                      }
                      return absl::OkStatus();
                    })
                    .ok());
  }

  absl::StatusOr<v1::CreateStructureResponse> CreateWithRequestId(const std::string& city) {
    v1::CreateStructureRequest request = StructureRequest(kSiret);
    request.set_request_id("6f1e2d3c-0000-4000-8000-000000000001");
    request.mutable_structure()->set_city(city);
    v1::CreateStructureResponse response;
    RETURN_IF_ERROR(structures_->Create(operator_, request, response).status());
    return response;
  }
};

TEST_F(RequestIdExpiryTest, AIP155_anAnswerIsKeptForTheRetentionThenForgotten) {
  ASSERT_TRUE(CreateWithRequestId("Rennes").ok());
  EXPECT_EQ(Counts(), std::make_pair(1, 1)) << "the record and its by-time key";
  RequestIdExpiry expiry(*store_, clock_, kRetention, absl::ZeroDuration());

  clock_.now += kRetention - absl::Minutes(1);
  EXPECT_EQ(expiry.Expire().value_or(-1), 0) << "kept within the retention";
  EXPECT_TRUE(CreateWithRequestId("Rennes").ok()) << "a retry within the retention gets the first answer";
  EXPECT_EQ(ErrorReason(CreateWithRequestId("Brest").status()), "REQUEST_ID_REUSED");

  clock_.now += absl::Minutes(2);
  EXPECT_EQ(expiry.Expire().value_or(-1), 1);
  EXPECT_EQ(Counts(), std::make_pair(0, 0));
  EXPECT_EQ(ErrorReason(CreateWithRequestId("Brest").status()), "STRUCTURE_EXISTS")
      << "the id is forgotten: the request runs again";
}

TEST_F(RequestIdExpiryTest, FORMAT_3_theMigrationDatesEveryRecordOnce) {
  PutUndatedRecords(3);
  EXPECT_EQ(Counts(), std::make_pair(3, 0));
  ASSERT_TRUE(DateIdempotencyRecords(*store_, clock_.now).ok());
  ASSERT_TRUE(DateIdempotencyRecords(*store_, clock_.now + absl::Hours(1)).ok())
      << "idempotent: a cut-short migration runs again";
  EXPECT_EQ(Counts(), std::make_pair(3, 3)) << "each record dated once, at the first run";

  RequestIdExpiry expiry(*store_, clock_, kRetention, absl::ZeroDuration());
  clock_.now += kRetention + absl::Seconds(1);
  EXPECT_EQ(expiry.Expire().value_or(-1), 3);
  EXPECT_EQ(Counts(), std::make_pair(0, 0));
}

// Two passes at once (two nodes, or a pass and a late lease holder) over more than one commit's worth: each
// record is deleted once, none is left, neither pass fails.
TEST_F(RequestIdExpiryTest, TwoPassesAtOnceDeleteEveryRecordOnce) {
  constexpr int kRecords = 1300;
  PutUndatedRecords(kRecords);
  ASSERT_TRUE(DateIdempotencyRecords(*store_, clock_.now).ok());
  clock_.now += kRetention + absl::Seconds(1);
  RequestIdExpiry a(*store_, clock_, kRetention, absl::ZeroDuration());
  RequestIdExpiry b(*store_, clock_, kRetention, absl::ZeroDuration());
  absl::StatusOr<int64_t> by_a, by_b;
  std::thread other([&] { by_b = b.Expire(); });
  by_a = a.Expire();
  other.join();
  ASSERT_TRUE(by_a.ok()) << by_a.status();
  ASSERT_TRUE(by_b.ok()) << by_b.status();
  EXPECT_EQ(*by_a + *by_b, kRecords);
  EXPECT_EQ(Counts(), std::make_pair(0, 0));
}

}  // namespace
}  // namespace habilis::domain
