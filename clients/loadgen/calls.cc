#include "clients/loadgen/calls.h"

#include <fstream>
#include <sstream>
#include <tuple>

#include "clients/cpp/client.h"
#include "google/protobuf/util/message_differencer.h"

namespace habilis::loadgen {
namespace {

// One call in flight: its context, request and response, freed when it completes.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

std::string Describe(const v1::CheckAccessRequest& request, const tools::ExpectedCheck& expected,
                     const v1::CheckAccessResponse& got) {
  std::ostringstream out;
  out << request.account() << " " << request.profile() << " in '" << request.structure() << "': expected "
      << (expected.allowed ? "allowed " : "denied ") << v1::AccessReason_Name(expected.reason) << " "
      << expected.structure << ", got " << (got.allowed() ? "allowed " : "denied ")
      << v1::AccessReason_Name(got.reason()) << " " << got.structure();
  return out.str();
}

}  // namespace

std::optional<Keys> ReadKeys(const std::string& path, int applications) {
  Keys keys;
  keys.applications.resize(applications);
  std::ifstream in(path);
  for (std::string name, key; in >> name >> key;) {
    if (name == "operator") keys.operator_key = key;
    if (name.rfind("app-", 0) != 0) continue;
    const int a = std::atoi(name.c_str() + 4);
    if (a >= 0 && a < applications) keys.applications[a] = key;
  }
  if (keys.operator_key.empty()) return std::nullopt;
  for (const std::string& key : keys.applications) {
    if (key.empty()) return std::nullopt;
  }
  return keys;
}

std::optional<std::vector<std::shared_ptr<grpc::Channel>>> Connect(const std::string& target, int connections) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("grpc.channel_id", i);  // distinct arguments: distinct connections
    channels.push_back(grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
  }
  for (auto& channel : channels) {
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) return std::nullopt;
  }
  return channels;
}

void Verifier::Remember(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (examples_.size() < 5) examples_.push_back(what);
}
void Verifier::Wrong(const std::string& what) {
  ++wrong_;
  Remember("wrong answer: " + what);
}
void Verifier::Failed(const std::string& rpc, const grpc::Status& status) {
  ++failed_;
  Remember(rpc + " failed: " + std::to_string(status.error_code()) + " " + status.error_message());
}
void Verifier::Decided(bool allowed) {
  ++decided_;
  if (allowed) ++allowed_;
}
double Verifier::AllowedShare() const {
  return decided_ > 0 ? static_cast<double>(allowed_) / static_cast<double>(decided_) : 0;
}
std::vector<std::string> Verifier::Examples() const {
  std::lock_guard<std::mutex> lock(mu_);
  return examples_;
}

Calls::Calls(std::vector<std::shared_ptr<grpc::Channel>> server, std::vector<std::shared_ptr<grpc::Channel>> bare,
             const tools::DatasetParams& params, Keys keys, tools::QueryDrawer::Options drawing, Verifier& verifier)
    : params_(params), keys_(std::move(keys)), drawing_(drawing), verifier_(verifier) {
  for (auto& channel : server) {
    health_.push_back(grpc::health::v1::Health::NewStub(channel));
    access_.push_back(v1::AccessService::NewStub(channel));
  }
  for (auto& channel : bare) bare_.push_back(grpc::health::v1::Health::NewStub(channel));
}

// One drawer per loader thread (a drawer is not thread-safe), each with its own seed.
tools::QueryDrawer& Calls::Drawer() {
  thread_local std::unique_ptr<tools::QueryDrawer> drawer;
  if (!drawer) {
    tools::QueryDrawer::Options options = drawing_;
    options.seed = drawing_.seed * 1000003 + drawers_++;
    drawer = std::make_unique<tools::QueryDrawer>(params_, options);
  }
  return *drawer;
}

void Calls::Health(std::function<void(bool)> done) {
  auto* call = new Call<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>();
  health_[NextConnection()]->async()->Check(&call->context, &call->request, &call->response,
                                            [this, call, done](const grpc::Status& status) {
                                              if (!status.ok()) verifier_.Failed("Health/Check", status);
                                              done(status.ok());
                                              delete call;
                                            });
}

void Calls::BareNoop(std::function<void(bool)> done) {
  auto* call = new Call<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>();
  bare_[NextConnection() % bare_.size()]->async()->Check(&call->context, &call->request, &call->response,
                                                         [this, call, done](const grpc::Status& status) {
                                                           if (!status.ok()) verifier_.Failed("bare no-op", status);
                                                           done(status.ok());
                                                           delete call;
                                                         });
}

void Calls::Check(double structure_share, std::function<void(bool)> done) {
  tools::QueryDrawer& drawer = Drawer();
  const int application = drawer.DrawApplication();
  tools::Query query = drawer.Draw(application, structure_share);
  auto* call = new Call<v1::CheckAccessRequest, v1::CheckAccessResponse>();
  client::Authorize(call->context, keys_.applications[application]);
  call->request = std::move(query.request);
  access_[NextConnection()]->async()->CheckAccess(
      &call->context, &call->request, &call->response,
      [this, call, expected = std::move(query.expected), done](const grpc::Status& status) {
        bool ok = status.ok();
        if (!ok) verifier_.Failed("CheckAccess", status);
        if (ok && !tools::AnswersAsExpected(expected, call->response)) {
          verifier_.Wrong(Describe(call->request, expected, call->response));
          ok = false;
        }
        if (ok) verifier_.Decided(call->response.allowed());
        done(ok);
        delete call;
      });
}

void Calls::Batch(int size, std::function<void(bool)> done) {
  tools::QueryDrawer& drawer = Drawer();
  const int application = drawer.DrawApplication();
  auto* call = new Call<v1::BatchCheckRequest, v1::BatchCheckResponse>();
  client::Authorize(call->context, keys_.applications[application]);
  auto expected = std::make_shared<std::vector<tools::ExpectedCheck>>();
  expected->reserve(size);
  for (int i = 0; i < size; ++i) {
    tools::Query query = drawer.Draw(application, 0.5);
    *call->request.add_checks() = std::move(query.request);
    expected->push_back(std::move(query.expected));
  }
  access_[NextConnection()]->async()->BatchCheck(
      &call->context, &call->request, &call->response, [this, call, expected, done](const grpc::Status& status) {
        bool ok = status.ok() && call->response.results_size() == static_cast<int>(expected->size());
        if (!status.ok()) verifier_.Failed("BatchCheck", status);
        if (status.ok() && !ok) verifier_.Wrong("a BatchCheck answered a different number of checks");
        for (int i = 0; ok && i < call->response.results_size(); ++i) {
          if (!tools::AnswersAsExpected((*expected)[i], call->response.results(i))) {
            verifier_.Wrong("in a batch: " +
                            Describe(call->request.checks(i), (*expected)[i], call->response.results(i)));
            ok = false;
          }
          verifier_.Decided(call->response.results(i).allowed());
        }
        done(ok);
        delete call;
      });
}

void Calls::List(std::function<void(bool)> done) {
  tools::QueryDrawer& drawer = Drawer();
  const int application = drawer.DrawApplication();
  const tools::Query query = drawer.Draw(application, 0);
  auto* call = new Call<v1::ListEntitlementsRequest, v1::ListEntitlementsResponse>();
  client::Authorize(call->context, keys_.applications[application]);
  call->request.set_account(query.request.account());
  access_[NextConnection()]->async()->ListEntitlements(
      &call->context, &call->request, &call->response,
      [this, call, expected = tools::ExpectEntitlements(params_, query.account, application),
       done](const grpc::Status& status) {
        bool ok = expected ? status.ok() : status.error_code() == grpc::StatusCode::NOT_FOUND;
        if (!ok && (expected || status.ok()))
          verifier_.Failed("ListEntitlements of " + call->request.account(), status);
        if (ok && expected) {
          ok = call->response.entitlements_size() == static_cast<int>(expected->size());
          for (int i = 0; ok && i < call->response.entitlements_size(); ++i) {
            ok = google::protobuf::util::MessageDifferencer::Equals((*expected)[i], call->response.entitlements(i));
          }
          if (!ok)
            verifier_.Wrong("ListEntitlements of " + call->request.account() + ": " +
                            call->response.ShortDebugString());
        }
        done(ok);
        delete call;
      });
}

Writer::Writer(const std::vector<std::shared_ptr<grpc::Channel>>& server, const tools::DatasetParams& params,
               std::string operator_key, double rate, Verifier& verifier)
    : params_(params),
      operator_key_(std::move(operator_key)),
      rate_(rate),
      verifier_(verifier),
      stub_(v1::EntitlementService::NewStub(server.front())),
      thread_([this] { Run(); }) {}

void Writer::Stop() {
  if (stop_.exchange(true)) return;
  thread_.join();
  while (outstanding_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// The next account of the write zone that can be granted anything (usable, a member in good standing).
int64_t Writer::NextAccount() {
  for (;;) {
    const int64_t account = next_;
    next_ += 64;
    if (next_ >= params_.accounts) next_ = 63;
    if (account < params_.accounts && tools::ConditionOf(account) == tools::AccountCondition::kUsable) return account;
  }
}

// Two writes a chain, so a chain starts every 2/rate seconds; latency counts from the scheduled start.
void Writer::Run() {
  const auto interval = std::chrono::duration<double>(2.0 / rate_);
  const auto start = Clock::now();
  for (long n = 0; !stop_; ++n) {
    // A sleep, not WaitUntil's spin: a write a few microseconds late changes nothing, and a spinning thread
    // would take the loader's one core from the checks it measures.
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(interval * n));
    RevokeThenGrant(NextAccount());
  }
}

void Writer::RevokeThenGrant(int64_t account) {
  const tools::GrantedPair held = tools::DatasetGrant(params_, account, 0);
  const std::string structure = tools::DatasetStructureOf(params_, account);
  const std::string application = held.profile.substr(0, held.profile.find("/profiles/"));
  auto* revoke = new Call<v1::RevokeHabilitationRequest, v1::RevokeHabilitationResponse>();
  client::Authorize(revoke->context, operator_key_);
  revoke->request.set_structure(structure);
  revoke->request.set_account(held.account);
  revoke->request.set_application(application);
  ++outstanding_;
  const auto sent = Clock::now();
  stub_->async()->RevokeHabilitation(
      &revoke->context, &revoke->request, &revoke->response, [=, this](const grpc::Status& status) {
        recorder_.Record(Clock::now() - sent, status.ok());
        if (!status.ok()) verifier_.Failed("RevokeHabilitation of " + held.account, status);
        delete revoke;
        auto* grant = new Call<v1::GrantHabilitationRequest, v1::GrantHabilitationResponse>();
        client::Authorize(grant->context, operator_key_);
        grant->request.set_structure(structure);
        grant->request.set_account(held.account);
        grant->request.set_profile(held.profile);
        const auto granted = Clock::now();
        stub_->async()->GrantHabilitation(&grant->context, &grant->request, &grant->response,
                                          [=, this](const grpc::Status& status) {
                                            recorder_.Record(Clock::now() - granted, status.ok());
                                            if (!status.ok())
                                              verifier_.Failed("GrantHabilitation of " + held.account, status);
                                            delete grant;
                                            --outstanding_;
                                          });
      });
}

}  // namespace habilis::loadgen
