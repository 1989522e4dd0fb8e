// The calls habilis-loadgen makes, each verified against the dataset's ground truth
// (server/tools/dataset_truth.h), and the writer that commits grants and revokes while they run.
#ifndef HABILIS_CLIENTS_LOADGEN_CALLS_H_
#define HABILIS_CLIENTS_LOADGEN_CALLS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "clients/loadgen/measure.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "server/tools/dataset_truth.h"

namespace habilis::loadgen {

// The keys habilis-dataset wrote: the operator's, and one per application (index a: app-a).
struct Keys {
  std::string operator_key;
  std::vector<std::string> applications;
};
// Reads "name key" lines; nullopt if the operator's or an application's key is missing.
std::optional<Keys> ReadKeys(const std::string& path, int applications);

// Connections to one server, with distinct arguments so that they are distinct HTTP/2 connections and the
// client is not the bottleneck of one; connected before anything is measured. nullopt if one cannot connect.
std::optional<std::vector<std::shared_ptr<grpc::Channel>>> Connect(const std::string& target, int connections);

// Wrong answers and failed calls: any of them fails the run. Also the share of checks answered allowed.
class Verifier {
 public:
  void Wrong(const std::string& what);
  void Failed(const std::string& rpc, const grpc::Status& status);
  void Decided(bool allowed);
  long wrong() const { return wrong_; }
  long failed() const { return failed_; }
  double AllowedShare() const;
  // The first few wrong answers and failures, for the report.
  std::vector<std::string> Examples() const;

 private:
  void Remember(const std::string& what);
  std::atomic<long> wrong_ = 0, failed_ = 0, allowed_ = 0, decided_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> examples_;
};

class Calls {
 public:
  Calls(std::vector<std::shared_ptr<grpc::Channel>> server, std::vector<std::shared_ptr<grpc::Channel>> bare,
        const tools::DatasetParams& params, Keys keys, tools::QueryDrawer::Options drawing, Verifier& verifier);

  // Health/Check of habilisd, and of the bare no-op server (which must have been given).
  void Health(std::function<void(bool)> done);
  void BareNoop(std::function<void(bool)> done);
  // CheckAccess of a drawn query; a `structure_share` of them name a structure.
  void Check(double structure_share, std::function<void(bool)> done);
  // BatchCheck of `size` drawn queries of one application, half of them naming a structure; `done(ok)`
  // once per call, and each decision is verified.
  void Batch(int size, std::function<void(bool)> done);
  // ListEntitlements of a drawn account, by a drawn application.
  void List(std::function<void(bool)> done);

 private:
  tools::QueryDrawer& Drawer();
  size_t NextConnection() { return counter_++ % access_.size(); }

  tools::DatasetParams params_;
  Keys keys_;
  tools::QueryDrawer::Options drawing_;
  Verifier& verifier_;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health_, bare_;
  std::vector<std::unique_ptr<v1::AccessService::Stub>> access_;
  std::atomic<unsigned long> counter_ = 0, drawers_ = 0;
};

// Commits `rate` writes a second on the write zone (tools::IsWriteZone) until stopped: on the next usable
// account of the zone, it revokes its first application's habilitation, then grants it back. The checks
// never draw these accounts, so their truth does not move.
class Writer {
 public:
  Writer(const std::vector<std::shared_ptr<grpc::Channel>>& server, const tools::DatasetParams& params,
         std::string operator_key, double rate, Verifier& verifier);
  ~Writer() { Stop(); }
  // Starts no more writes and waits for those under way.
  void Stop();
  Recorder& recorder() { return recorder_; }

 private:
  void Run();
  void RevokeThenGrant(int64_t account);
  int64_t NextAccount();

  tools::DatasetParams params_;
  std::string operator_key_;
  double rate_;
  Verifier& verifier_;
  std::unique_ptr<v1::EntitlementService::Stub> stub_;
  Recorder recorder_;
  int64_t next_ = 63;
  std::atomic<bool> stop_ = false;
  std::atomic<long> outstanding_ = 0;
  std::thread thread_;
};

}  // namespace habilis::loadgen

#endif  // HABILIS_CLIENTS_LOADGEN_CALLS_H_
