// Operating habilisd: settings from flags, HABILIS_* variables and a file, in that precedence; every setting
// documented; TLS and mutual TLS with the certificates deploy/dev-certs.sh makes, renewed without a restart.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cpp/client.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/account_files.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/http.h"
#include "tests/testing/reflection.h"
#include "tests/testing/requests.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

using testing::RunHabilisd;
using testing::RunResult;

void WriteFile(const std::string& path, const std::string& content) { std::ofstream(path) << content; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// The real curl's "<HTTP version> <status>" for one or more transfers of `url` (one line each, "0 000" for a
// transfer that failed), with `args` before the URLs.
std::vector<std::string> CurlVersions(std::vector<std::string> args, const std::string& url, int transfers = 1) {
  args.insert(args.begin(), {"--silent", "--max-time", "20", "--write-out", "%{http_version} %{http_code}\n"});
  for (int i = 0; i < transfers; ++i) args.insert(args.end(), {"--output", "/dev/null", url});
  testing::RunResult run = testing::RunProgram("/usr/bin/curl", args);
  std::vector<std::string> lines;
  std::istringstream out(run.out);
  for (std::string line; std::getline(out, line);) lines.push_back(line);
  return lines;
}

// The HTTP/JSON port's base URL in habilisd's banner ("http://127.0.0.1:PORT" or "https://...").
std::string HttpBaseOf(const std::string& banner) {
  std::smatch match;
  return std::regex_search(banner, match, std::regex("HTTP/JSON API on (https?://[0-9.:]+)")) ? match[1].str() : "";
}

// A run that validates the settings and exits at once (on an empty store).
class SettingsTest : public ::testing::Test {
 protected:
  RunResult Try(std::vector<std::string> args, const std::map<std::string, std::string>& env = {}) {
    args.insert(args.end(), {"--data-dir", dir_.Sub(absl::StrCat("data", runs_++)), "--create-operator-key", "t"});
    return RunHabilisd(args, env);
  }
  testing::TempDir dir_;
  int runs_ = 0;
};

TEST_F(SettingsTest, AFlagBeatsTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault) {
  const std::string bad_file = dir_.Sub("bad.toml");
  WriteFile(bad_file, "workers = 0\n");
  const std::string good_file = dir_.Sub("good.toml");
  WriteFile(good_file, "workers = 3\n");
  // The value that wins is checked: an out-of-range one stops start-up naming the setting.
  RunResult file = Try({"--config", bad_file});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("--workers"), std::string::npos) << file.err;
  EXPECT_EQ(Try({"--config", bad_file}, {{"HABILIS_WORKERS", "2"}}).exit_code, 0) << "the environment beats the file";
  EXPECT_EQ(Try({"--config", good_file}, {{"HABILIS_WORKERS", "0"}}).exit_code, 2) << "...both ways";
  EXPECT_EQ(Try({"--workers", "2"}, {{"HABILIS_WORKERS", "0"}}).exit_code, 0) << "a flag beats the environment";
  EXPECT_EQ(Try({"--workers", "0"}, {{"HABILIS_WORKERS", "2"}}).exit_code, 2) << "...both ways";
  EXPECT_EQ(Try({}, {{"HABILIS_CONFIG", bad_file}}).exit_code, 2) << "the file may be named by the environment";
  EXPECT_EQ(Try({}).exit_code, 0) << "the defaults are valid";
}

TEST_F(SettingsTest, AnUnknownOrMalformedSettingStopsStartUpNamingIt) {
  const std::string file = dir_.Sub("typo.toml");
  WriteFile(file, "wokers = 3\n");
  RunResult typo = Try({"--config", file});
  EXPECT_NE(typo.exit_code, 0);
  EXPECT_NE(typo.err.find("wokers"), std::string::npos) << typo.err;
  RunResult malformed = Try({}, {{"HABILIS_MAIL_POLL_MS", "often"}});
  EXPECT_NE(malformed.exit_code, 0);
  EXPECT_NE(malformed.err.find("mail-poll-ms"), std::string::npos) << malformed.err;
  RunResult half_tls = Try({"--tls-cert", "/nonexistent.pem"});
  EXPECT_EQ(half_tls.exit_code, 2);
  EXPECT_NE(half_tls.err.find("--tls-key"), std::string::npos) << half_tls.err;
}

TEST(OperationsDocsTest, EverySettingIsInConfigurationMdAndVersionAnswers) {
  RunResult help = RunHabilisd({"--help"});
  ASSERT_EQ(help.exit_code, 0);
  const std::string doc = ReadFile(HABILIS_SOURCE_DIR "/docs/CONFIGURATION.md");
  ASSERT_FALSE(doc.empty());
  std::set<std::string> settings;
  const std::regex flag("  (--[a-z0-9-]+)");
  for (std::sregex_iterator it(help.out.begin(), help.out.end(), flag), end; it != end; ++it) {
    settings.insert((*it)[1].str());
  }
  EXPECT_GE(settings.size(), 25u);
  for (const std::string& setting : settings) {
    if (setting == "--help" || setting == "--version") continue;
    EXPECT_NE(doc.find("`" + setting + "`"), std::string::npos) << setting << " is not in docs/CONFIGURATION.md";
  }
  RunResult version = RunHabilisd({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_TRUE(std::regex_search(version.out, std::regex("^habilisd [0-9]+\\.[0-9]+\\.[0-9]+"))) << version.out;
}

// One JSON line per call, with who, what and how it ended, and never a secret the call carried.
TEST(LogTest, EveryCallWritesOneJsonLineAndNoSecret) {
  testing::TempDir dir;
  RunResult created = RunHabilisd({"--data-dir", dir.Sub("data"), "--create-operator-key", "t"});
  ASSERT_EQ(created.exit_code, 0);
  const std::string operator_key(absl::StripAsciiWhitespace(created.out));
  const std::string log = dir.Sub("stderr.log");
  auto process = testing::HabilisdProcess::Start(dir.Sub("data"), {}, log);
  ASSERT_TRUE(process.ok()) << process.status();
  auto channel = grpc::CreateChannel((*process)->target(), grpc::InsecureChannelCredentials());
  auto structures = v1::StructureService::NewStub(channel);
  auto sessions = v1::SessionService::NewStub(channel);
  auto keys = v1::ApiKeyService::NewStub(channel);
  auto as = [&](const std::string& bearer) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!bearer.empty()) client::Authorize(*context, bearer);
    return context;
  };
  v1::CreateStructureRequest structure = testing::CommuneStructureRequest();
  structure.set_request_id("9b2c6a51-0d3e-4f7a-8c1b-2e5d7f9a0b3c");
  v1::CreateStructureResponse structure_created;
  ASSERT_TRUE(structures->CreateStructure(as(operator_key).get(), structure, &structure_created).ok());
  v1::LoginRequest login;
  login.set_login_email("nobody@example.fr");
  login.set_password("a secret passphrase nobody should log");
  login.set_device_label("laptop");
  v1::LoginResponse logged_in;
  EXPECT_FALSE(sessions->Login(as("").get(), login, &logged_in).ok());
  v1::CreateApiKeyRequest key;
  key.mutable_api_key()->set_display_name("second");
  key.mutable_api_key()->set_operator_(true);
  v1::CreateApiKeyResponse key_created;
  ASSERT_TRUE(keys->CreateApiKey(as(operator_key).get(), key, &key_created).ok());
  v1::GetStructureRequest get;
  get.set_name("structures/73282932000074");
  v1::GetStructureResponse got;
  EXPECT_FALSE(structures->GetStructure(as("hbk_not_a_key").get(), get, &got).ok());
  auto files = v1::AccountFileService::NewStub(channel);
  v1::ExportAccountsRequest export_request;
  export_request.set_parent("structures/73282932000074");
  auto export_context = as(operator_key);
  auto exported = files->ExportAccounts(export_context.get(), export_request);
  v1::ExportAccountsResponse piece;
  while (exported->Read(&piece)) {
  }
  ASSERT_TRUE(exported->Finish().ok());
  // A long-lived stream writes its line when it ends (here, when its client's deadline passes).
  auto audit = v1::AuditService::NewStub(channel);
  auto watch_context = as(operator_key);
  v1::WatchChangesRequest watch_request;
  watch_request.set_structure("structures/73282932000074");
  watch_context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  auto watch = audit->WatchChanges(watch_context.get(), watch_request);
  v1::WatchChangesResponse change;
  while (watch->Read(&change)) {
  }
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  (*process)->Terminate();

  std::istringstream lines(ReadFile(log));
  std::map<std::string, google::protobuf::Struct> by_method;
  int calls = 0;
  for (std::string line; std::getline(lines, line);) {
    EXPECT_EQ(line.find(operator_key.substr(operator_key.size() - 20)), std::string::npos) << line;
    EXPECT_EQ(line.find(key_created.secret().substr(key_created.secret().size() - 20)), std::string::npos) << line;
    EXPECT_EQ(line.find("secret passphrase"), std::string::npos) << line;
    if (line.empty() || line[0] != '{') continue;
    google::protobuf::Struct parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok()) << line;
    if (!parsed.fields().contains("method")) continue;
    ++calls;
    by_method[parsed.fields().at("method").string_value()] = parsed;
  }
  EXPECT_EQ(calls, 6);
  const auto& watch_line = by_method["habilis.v1.AuditService/WatchChanges"].fields();
  EXPECT_EQ(watch_line.at("code").string_value(), "CANCELLED");
  EXPECT_EQ(watch_line.at("principal").string_value().rfind("operators/", 0), 0u);
  const auto& export_line = by_method["habilis.v1.AccountFileService/ExportAccounts"].fields();
  EXPECT_EQ(export_line.at("code").string_value(), "OK") << "streaming calls write their line too";
  EXPECT_EQ(export_line.at("principal").string_value().rfind("operators/", 0), 0u);
  const auto& create = by_method["habilis.v1.StructureService/CreateStructure"].fields();
  EXPECT_EQ(create.at("code").string_value(), "OK");
  EXPECT_EQ(create.at("request_id").string_value(), "9b2c6a51-0d3e-4f7a-8c1b-2e5d7f9a0b3c");
  EXPECT_EQ(create.at("principal").string_value().rfind("operators/", 0), 0u);
  EXPECT_EQ(create.at("level").string_value(), "info");
  const auto& failed_login = by_method["habilis.v1.SessionService/Login"].fields();
  EXPECT_EQ(failed_login.at("code").string_value(), "UNAUTHENTICATED");
  EXPECT_EQ(failed_login.at("reason").string_value(), "LOGIN_FAILED");
  EXPECT_EQ(failed_login.count("principal"), 0u);
  const auto& refused = by_method["habilis.v1.StructureService/GetStructure"].fields();
  EXPECT_EQ(refused.at("code").string_value(), "UNAUTHENTICATED");
}

// A service's first start writes the first operator key to a file of its own, while it serves; later starts
// leave the store's keys and the file alone.
// Load balancers probe health every few seconds: a DEBUG line each, so that INFO is not flooded.
TEST(LogTest, HealthProbesWriteDebugLines) {
  for (const std::string level : {"info", "debug"}) {
    testing::TempDir dir;
    const std::string log = dir.Sub("stderr.log");
    auto process = testing::HabilisdProcess::Start(dir.Sub("data"), {"--log-level", level}, log);
    ASSERT_TRUE(process.ok()) << process.status();
    {
      auto health = grpc::health::v1::Health::NewStub(
          grpc::CreateChannel((*process)->target(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext context;
      grpc::health::v1::HealthCheckRequest request;
      grpc::health::v1::HealthCheckResponse response;
      ASSERT_TRUE(health->Check(&context, request, &response).ok());
    }
    EXPECT_EQ((*process)->Terminate(), 0);
    const std::string lines = ReadFile(log);
    const bool logged =
        lines.find(R"("level":"debug","method":"grpc.health.v1.Health/Check","code":"OK")") != std::string::npos;
    EXPECT_EQ(logged, level == "debug") << level << ":\n" << lines;
  }
}

TEST(BootstrapTest, TheFirstStartWritesAnOperatorKeyThatWorksAndOnlyOnce) {
  testing::TempDir dir;
  const std::string key_file = dir.Sub("first-operator-key");
  std::string key;
  auto works = [&](const std::string& target) {
    auto structures = v1::StructureService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    client::Authorize(context, key);
    v1::ListStructuresResponse listed;
    return structures->ListStructures(&context, v1::ListStructuresRequest(), &listed);
  };
  for (int start = 0; start < 3; ++start) {
    auto process = testing::HabilisdProcess::Start(dir.Sub("data"), {"--bootstrap-operator-key-file", key_file});
    ASSERT_TRUE(process.ok()) << process.status();
    struct stat info;
    const bool exists = stat(key_file.c_str(), &info) == 0;
    if (start == 0) {
      ASSERT_TRUE(exists);
      EXPECT_EQ(info.st_mode & 0777, 0600u);
      key = std::string(absl::StripAsciiWhitespace(ReadFile(key_file)));
      // The operator stores the key, then deletes the file.
      ASSERT_EQ(std::remove(key_file.c_str()), 0);
    } else if (start == 1) {
      EXPECT_FALSE(exists) << "a store that has its key makes no second one";
      WriteFile(key_file, "something of the operator's");
    } else {
      EXPECT_EQ(ReadFile(key_file), "something of the operator's") << "an existing file is never overwritten";
    }
    grpc::Status status = works((*process)->target());
    EXPECT_TRUE(status.ok()) << "start " << start << ": " << status.error_message();
    (*process)->Terminate();
  }
}

// Server reflection gives, with each service's file, the definitions of the error details its errors carry, so
// that buf curl and grpcurl decode ErrorInfo instead of printing base64.
TEST(ReflectionTest, EveryServicesFilesBringTheErrorDetailsAndHealthIsServed) {
  testing::TempDir dir;
  auto process = testing::HabilisdProcess::Start(dir.Sub("data"), {});
  ASSERT_TRUE(process.ok()) << process.status();
  auto channel = grpc::CreateChannel((*process)->target(), grpc::InsecureChannelCredentials());
  absl::StatusOr<std::vector<std::string>> services = testing::ServedServices(channel);
  ASSERT_TRUE(services.ok()) << services.status();
  EXPECT_NE(std::find(services->begin(), services->end(), "grpc.health.v1.Health"), services->end());
  for (const std::string& service : *services) {
    if (service.rfind("grpc.reflection.", 0) == 0) continue;
    // ServerReflectionRequest{file_containing_symbol: service}, written by hand: the reflection protos are
    // not part of Debian's gRPC headers.
    const std::string request = absl::StrCat("\x22", std::string(1, static_cast<char>(service.size())), service);
    std::vector<std::string> replies;
    grpc::Status status = client::CallRawStream(
        channel, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", {request}, "", &replies);
    ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
    ASSERT_EQ(replies.size(), 1u) << service;
    // ServerReflectionResponse.file_descriptor_response (4) .file_descriptor_proto (1): the files sent.
    google::protobuf::UnknownFieldSet response;
    ASSERT_TRUE(response.ParseFromString(replies[0]));
    std::set<std::string> files;
    for (int i = 0; i < response.field_count(); ++i) {
      if (response.field(i).number() != 4) continue;
      google::protobuf::UnknownFieldSet descriptors;
      ASSERT_TRUE(descriptors.ParseFromString(response.field(i).length_delimited()));
      for (int j = 0; j < descriptors.field_count(); ++j) {
        google::protobuf::FileDescriptorProto file;
        ASSERT_TRUE(file.ParseFromString(descriptors.field(j).length_delimited()));
        files.insert(file.name());
      }
    }
    ASSERT_FALSE(files.empty()) << service << " is not served by reflection";
    if (service.rfind("habilis.", 0) == 0) {
      EXPECT_TRUE(files.contains("google/rpc/error_details.proto")) << service;
    }
  }
}

// TLS with certificates from deploy/dev-certs.sh, against the real habilisd.
class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { certs_ = MakeCertificates("certs"); }

  std::string MakeCertificates(const std::string& name) {
    const std::string dir = dir_.Sub(name);
    int made = std::system(absl::StrCat(HABILIS_SOURCE_DIR "/deploy/dev-certs.sh ", dir, " >/dev/null").c_str());
    EXPECT_EQ(made, 0);
    return dir;
  }

  // Call it through ASSERT_NO_FATAL_FAILURE: a start that fails ends the test there.
  void Start(std::vector<std::string> tls_args, const std::string& stderr_file = "") {
    RunResult created = RunHabilisd({"--data-dir", dir_.Sub("data"), "--create-operator-key", "t"});
    ASSERT_EQ(created.exit_code, 0);
    auto process = testing::HabilisdProcess::Start(dir_.Sub("data"), tls_args, stderr_file);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    port_ = process_->target().substr(process_->target().rfind(':') + 1);
  }

  // Health over a channel to the server, which must prove it is "localhost"; the status of the call.
  grpc::Status Health(const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
    // By address, with the name the certificate must hold given apart: no DNS lookup (c-ares leaks under ASan).
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel("ipv4:127.0.0.1:" + port_, credentials, args);
    auto stub = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    return stub->Check(&context, request, &response);
  }

  std::shared_ptr<grpc::ChannelCredentials> Tls(const std::string& certs, bool with_client_certificate) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(certs + "/ca.pem");
    if (with_client_certificate) {
      options.pem_private_key = ReadFile(certs + "/client.key");
      options.pem_cert_chain = ReadFile(certs + "/client.pem");
    }
    return grpc::SslCredentials(options);
  }

  testing::TempDir dir_;
  std::string certs_;
  std::unique_ptr<testing::HabilisdProcess> process_;
  std::string port_;
};

TEST_F(TlsTest, WithACertificateTheServerSpeaksTlsOnly) {
  const std::string log = dir_.Sub("stderr.log");
  ASSERT_NO_FATAL_FAILURE(Start({"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key"}, log));
  grpc::Status tls = Health(Tls(certs_, false));
  EXPECT_TRUE(tls.ok()) << tls.error_message();
  EXPECT_EQ(Health(grpc::InsecureChannelCredentials()).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "no plain text on a TLS port";
  const std::string stranger = MakeCertificates("stranger");
  EXPECT_EQ(Health(Tls(stranger, false)).error_code(), grpc::StatusCode::UNAVAILABLE)
      << "a client that does not trust the server's CA does not talk to it";
  for (int i = 0; i < 5; ++i) Health(grpc::InsecureChannelCredentials());
  process_->Terminate();
  std::istringstream lines(ReadFile(log));
  int handshake_lines = 0;
  for (std::string line; std::getline(lines, line);) handshake_lines += line.find("andshake") != std::string::npos;
  EXPECT_LE(handshake_lines, 2) << "failed handshakes write at most a line a minute, not one each";
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificateOfTheCa) {
  ASSERT_NO_FATAL_FAILURE(Start({"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key",
                                 "--tls-client-ca", certs_ + "/ca.pem"}));
  grpc::Status with = Health(Tls(certs_, true));
  EXPECT_TRUE(with.ok()) << with.error_message();
  EXPECT_EQ(Health(Tls(certs_, false)).error_code(), grpc::StatusCode::UNAVAILABLE);
  // A certificate from another CA is refused too.
  const std::string stranger = MakeCertificates("stranger");
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = ReadFile(certs_ + "/ca.pem");
  options.pem_private_key = ReadFile(stranger + "/client.key");
  options.pem_cert_chain = ReadFile(stranger + "/client.pem");
  EXPECT_EQ(Health(grpc::SslCredentials(options)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A client application may authenticate by its certificate (--tls-client-applications), with no API key.
TEST_F(TlsTest, AMappedClientCertificateIsItsApplicationWithoutAKey) {
  WriteFile(dir_.Sub("applications"), "# certificate CN, application\nhabilis-client portail\n");
  ASSERT_NO_FATAL_FAILURE(
      Start({"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key", "--tls-client-ca",
             certs_ + "/ca.pem", "--tls-client-applications", dir_.Sub("applications")}));
  auto get_application = [&](const std::string& name, const std::string& bearer = "") {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    auto channel = grpc::CreateCustomChannel("ipv4:127.0.0.1:" + port_, Tls(certs_, true), args);
    auto stub = v1::ApplicationService::NewStub(channel);
    grpc::ClientContext context;
    if (!bearer.empty()) client::Authorize(context, bearer);
    v1::GetApplicationRequest request;
    request.set_name(name);
    v1::GetApplicationResponse response;
    return stub->GetApplication(&context, request, &response).error_code();
  };
  EXPECT_EQ(get_application("applications/portail"), grpc::StatusCode::NOT_FOUND)
      << "authenticated as portail, allowed to read its own application (not created here)";
  EXPECT_EQ(get_application("applications/autre"), grpc::StatusCode::PERMISSION_DENIED) << "and nothing else";
  EXPECT_EQ(get_application("applications/portail", "hbk_not_a_key"), grpc::StatusCode::UNAUTHENTICATED)
      << "a bearer credential, when sent, is the one that counts";
}

// The HTTP/JSON port speaks HTTPS with the gRPC port's certificate, offering HTTP/2 by ALPN.
TEST_F(TlsTest, TheHttpJsonPortSpeaksHttpsWithTheSameCertificateAndHttp2ByAlpn) {
  ASSERT_NO_FATAL_FAILURE(Start(
      {"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key", "--http-listen", "127.0.0.1:0"}));
  const std::string base = HttpBaseOf(process_->banner());
  ASSERT_EQ(base.rfind("https://127.0.0.1:", 0), 0u) << process_->banner();
  // The certificate names localhost: curl resolves it to the port's address.
  const std::string port = base.substr(base.rfind(':') + 1);
  const std::string url = "https://localhost:" + port + "/habilis.v1.StructureService/GetStructure";
  const std::vector<std::string> trusting = {
      "--resolve", "localhost:" + port + ":127.0.0.1", "--cacert", certs_ + "/ca.pem",
      "-H",        "Content-Type: application/json",   "-d",       "{}"};
  std::vector<std::string> http2 = trusting;
  http2.push_back("--http2");
  EXPECT_EQ(CurlVersions(http2, url, 3), std::vector<std::string>(3, "2 401"))
      << "HTTP/2, three calls on one connection, each reaching the gate (no credentials: 401)";
  std::vector<std::string> http1 = trusting;
  http1.push_back("--http1.1");
  EXPECT_EQ(CurlVersions(http1, url), std::vector<std::string>{"1.1 401"});
  EXPECT_EQ(CurlVersions({}, "http://127.0.0.1:" + port + "/habilis.v1.StructureService/GetStructure"),
            std::vector<std::string>{"0 000"})
      << "no plain text on a TLS port";
  const std::string stranger = MakeCertificates("stranger");
  std::vector<std::string> distrusting = trusting;
  distrusting[3] = stranger + "/ca.pem";
  EXPECT_EQ(CurlVersions(distrusting, url), std::vector<std::string>{"0 000"});
}

TEST_F(TlsTest, MutualTlsHoldsOnTheHttpJsonPortToo) {
  ASSERT_NO_FATAL_FAILURE(Start({"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key",
                                 "--tls-client-ca", certs_ + "/ca.pem", "--http-listen", "127.0.0.1:0"}));
  const std::string base = HttpBaseOf(process_->banner());
  const std::string port = base.substr(base.rfind(':') + 1);
  const std::string url = "https://localhost:" + port + "/habilis.v1.StructureService/GetStructure";
  std::vector<std::string> args = {"--resolve", "localhost:" + port + ":127.0.0.1", "--cacert", certs_ + "/ca.pem",
                                   "-H",        "Content-Type: application/json",   "-d",       "{}"};
  EXPECT_EQ(CurlVersions(args, url), std::vector<std::string>{"0 000"}) << "no client certificate";
  const std::string stranger = MakeCertificates("stranger");
  std::vector<std::string> foreign = args;
  foreign.insert(foreign.end(), {"--cert", stranger + "/client.pem", "--key", stranger + "/client.key"});
  EXPECT_EQ(CurlVersions(foreign, url), std::vector<std::string>{"0 000"}) << "a certificate of another CA";
  args.insert(args.end(), {"--cert", certs_ + "/client.pem", "--key", certs_ + "/client.key"});
  EXPECT_EQ(CurlVersions(args, url), std::vector<std::string>{"2 401"});
}

TEST(TlsSettingsTest, ClientApplicationsNeedMutualTls) {
  testing::TempDir dir;
  WriteFile(dir.Sub("applications"), "cn app\n");
  RunResult run = RunHabilisd({"--data-dir", dir.Sub("data"), "--tls-client-applications", dir.Sub("applications")});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--tls-client-applications needs --tls-client-ca"), std::string::npos) << run.err;
}

TEST_F(TlsTest, ARenewedCertificateIsTakenWithoutARestart) {
  ASSERT_NO_FATAL_FAILURE(Start({"--tls-cert", certs_ + "/server.pem", "--tls-key", certs_ + "/server.key",
                                 "--tls-refresh-seconds", "1", "--http-listen", "127.0.0.1:0"}));
  ASSERT_TRUE(Health(Tls(certs_, false)).ok());
  const std::string base = HttpBaseOf(process_->banner());
  const std::string http_port = base.substr(base.rfind(':') + 1);
  auto http_trusted_by = [&](const std::string& certs) {
    return CurlVersions({"--resolve", "localhost:" + http_port + ":127.0.0.1", "--cacert", certs + "/ca.pem"},
                        "https://localhost:" + http_port + "/") == std::vector<std::string>{"2 404"};
  };
  ASSERT_TRUE(http_trusted_by(certs_));
  // A new CA and certificate replace the files (renamed into place, as a renewal tool does).
  const std::string renewed = MakeCertificates("renewed");
  ASSERT_EQ(std::system(absl::StrCat("cp ", renewed, "/server.key ", certs_, "/server.key.tmp && cp ", renewed,
                                     "/server.pem ", certs_, "/server.pem.tmp && mv ", certs_, "/server.key.tmp ",
                                     certs_, "/server.key && mv ", certs_, "/server.pem.tmp ", certs_, "/server.pem")
                            .c_str()),
            0);
  bool renewed_served = false;
  for (int i = 0; i < 100 && !renewed_served; ++i) {
    renewed_served = Health(Tls(renewed, false)).ok();
    if (!renewed_served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(renewed_served) << "the renewed certificate is served within a few refreshes";
  bool renewed_over_http = false;
  for (int i = 0; i < 50 && !renewed_over_http; ++i) {
    renewed_over_http = http_trusted_by(renewed);
    if (!renewed_over_http) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(renewed_over_http) << "and on the HTTP/JSON port";
}

TEST_F(TlsTest, AKeyThatIsNotTheCertificatesStopsStartUpNamingIt) {
  const std::string other = MakeCertificates("other");
  RunResult run = RunHabilisd({"--data-dir", dir_.Sub("data"), "--listen", "127.0.0.1:0", "--tls-cert",
                               certs_ + "/server.pem", "--tls-key", other + "/server.key"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("--tls-key"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace habilis

namespace habilis {
namespace {

// The value of the sample `series` (name and labels exactly as exposed) in a Prometheus text page; -1 if
// absent.
double SampleOf(const std::string& page, const std::string& series) {
  std::istringstream lines(page);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string DemoKey(const std::string& data_dir, const std::string& name) {
  std::smatch match;
  const std::string text = ReadFile(data_dir + "/demo-credentials.env");
  const std::regex pattern(name + "=(hbk_[A-Za-z0-9_-]+)");
  return std::regex_search(text, match, pattern) ? match[1].str() : "";
}

TEST(MetricsTest, CallsByMethodAndCodeDecisionsByReasonAndTheStoreAreExposed) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  auto process = testing::HabilisdProcess::Start(data, {"--seed-demo", "--metrics-listen", "127.0.0.1:0"});
  ASSERT_TRUE(process.ok()) << process.status();
  std::smatch match;
  const std::string banner = (*process)->banner();
  ASSERT_TRUE(std::regex_search(banner, match, std::regex("metrics on (http://[0-9.:]+/metrics)"))) << banner;
  const std::string metrics_url = match[1].str();

  auto channel = client::Connect((*process)->target());
  auto access = v1::AccessService::NewStub(channel);
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    client::Authorize(context, DemoKey(data, "HABILIS_APPLICATION_KEY"));
    v1::CheckAccessRequest check;
    check.set_login_email(absl::StrCat("nobody", i, "@example.fr"));
    check.set_profile("applications/portail-partenaires/profiles/utilisateur");
    v1::CheckAccessResponse answer;
    ASSERT_TRUE(access->CheckAccess(&context, check, &answer).ok());
    EXPECT_EQ(answer.reason(), v1::ACCOUNT_UNKNOWN);
  }
  auto structures = v1::StructureService::NewStub(channel);
  grpc::ClientContext refused;
  client::Authorize(refused, "hbk_not_a_key");
  v1::GetStructureRequest get;
  get.set_name("structures/73282932000074");
  v1::GetStructureResponse got;
  EXPECT_EQ(structures->GetStructure(&refused, get, &got).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  testing::HttpResponse page = testing::Http("GET", metrics_url);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(SampleOf(page.body,
                     "habilis_rpc_duration_seconds_count{code=\"OK\",method=\"habilis.v1."
                     "AccessService/CheckAccess\"}"),
            3)
      << page.body;
  EXPECT_EQ(SampleOf(page.body,
                     "habilis_rpc_duration_seconds_count{code=\"UNAUTHENTICATED\",method=\"habilis.v1."
                     "StructureService/GetStructure\"}"),
            1);
  EXPECT_EQ(SampleOf(page.body, "habilis_access_decisions_total{decision=\"deny\",reason=\"ACCOUNT_UNKNOWN\"}"), 3);
  EXPECT_EQ(SampleOf(page.body, "habilis_access_decisions_total{decision=\"allow\",reason=\"GRANTED\"}"), 0);
  EXPECT_GT(SampleOf(page.body, "habilis_store_revision"), 0);
  EXPECT_EQ(SampleOf(page.body, "habilis_access_index_lag_revisions"), 0);
  EXPECT_GT(SampleOf(page.body, "habilis_store_disk_bytes"), 0);
  EXPECT_GE(SampleOf(page.body, "habilis_outbox_messages"), 0);
  EXPECT_EQ(page.body.find("hbk_"), std::string::npos) << "no key, not even a refused one, becomes a label";
}

TEST(MetricsTest, AMetricsAddressThatCannotBeBoundStopsStartUpNamingIt) {
  testing::TempDir dir;
  RunResult run =
      RunHabilisd({"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--metrics-listen", "203.0.113.1:9464"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("--metrics-listen"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace habilis

namespace habilis {
namespace {

// habilisd with the demo and the HTTP/JSON API, and what it needs to be called over HTTP.
class HttpJsonTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    extra.insert(extra.end(), {"--seed-demo", "--http-listen", "127.0.0.1:0", "--http-cors-origins",
                               "https://portail.example.fr, https://autre.example.fr"});
    auto process = testing::HabilisdProcess::Start(data_, extra);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(process).value();
    std::smatch match;
    const std::string banner = process_->banner();
    ASSERT_TRUE(std::regex_search(banner, match, std::regex("HTTP/JSON API on (http://[0-9.:]+)"))) << banner;
    base_ = match[1].str();
    operator_key_ = DemoKey(data_, "HABILIS_OPERATOR_KEY");
    application_key_ = DemoKey(data_, "HABILIS_APPLICATION_KEY");
  }

  // POSTs `json` to `method` ("habilis.v1.Service/Method") with the real curl; the status line's code, and the
  // body parsed into *body.
  long Curl(const std::string& method, const std::string& json, const std::string& bearer,
            google::protobuf::Struct* body) {
    std::vector<std::string> args = {"--silent",    "--show-error",
                                     "--max-time",  "20",
                                     "--output",    "-",
                                     "--write-out", "\n%{http_code}",
                                     "-H",          "Content-Type: application/json",
                                     "--data",      json};
    if (!bearer.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + bearer});
    args.push_back(base_ + "/" + method);
    testing::RunResult run = testing::RunProgram("/usr/bin/curl", args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    const size_t last = run.out.rfind('\n');
    if (last == std::string::npos) return 0;
    body->Clear();
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(run.out.substr(0, last), body).ok()) << run.out;
    return std::stol(run.out.substr(last + 1));
  }

  static std::string ReasonOf(const google::protobuf::Struct& error) {
    const auto& details = error.fields().at("details").list_value().values();
    for (const auto& detail : details) {
      const auto& fields = detail.struct_value().fields();
      if (fields.at("type").string_value() == "google.rpc.ErrorInfo") {
        return fields.at("debug").struct_value().fields().at("reason").string_value();
      }
    }
    return "";
  }

  testing::TempDir dir_;
  const std::string data_ = dir_.Sub("data");
  std::unique_ptr<testing::HabilisdProcess> process_;
  std::string base_;
  std::string operator_key_;
  std::string application_key_;
};

TEST_F(HttpJsonTest, CurlCallsTheSameHandlersWithJsonAndGetsConnectErrors) {
  ASSERT_NO_FATAL_FAILURE(Start());
  google::protobuf::Struct body;
  ASSERT_EQ(Curl("habilis.v1.StructureService/GetStructure", R"({"name": "structures/73282932000074"})", operator_key_,
                 &body),
            200);
  EXPECT_EQ(body.fields().at("structure").struct_value().fields().at("siret").string_value(), "73282932000074");

  // A write over HTTP is a write: gRPC reads it back.
  ASSERT_EQ(Curl("habilis.v1.OrgChartService/CreateService",
                 R"({"parent": "structures/73282932000074", "service": {"displayName": "Service HTTP"}})",
                 operator_key_, &body),
            200)
      << body.DebugString();
  const std::string service_name = body.fields().at("service").struct_value().fields().at("name").string_value();
  auto org_chart = v1::OrgChartService::NewStub(client::Connect(process_->target()));
  grpc::ClientContext context;
  client::Authorize(context, operator_key_);
  v1::GetServiceTreeRequest tree_request;
  tree_request.set_structure("structures/73282932000074");
  v1::GetServiceTreeResponse tree;
  ASSERT_TRUE(org_chart->GetServiceTree(&context, tree_request, &tree).ok());
  EXPECT_NE(tree.DebugString().find(service_name), std::string::npos);

  EXPECT_EQ(
      Curl("habilis.v1.AccessService/CheckAccess",
           R"({"loginEmail": "nobody@example.fr", "profile": "applications/portail-partenaires/profiles/utilisateur"})",
           application_key_, &body),
      200);
  EXPECT_EQ(body.fields().at("reason").string_value(), "ACCOUNT_UNKNOWN");
  ASSERT_TRUE(body.fields().contains("allowed")) << "a denial says allowed: false, not nothing";
  EXPECT_FALSE(body.fields().at("allowed").bool_value());

  EXPECT_EQ(Curl("habilis.v1.StructureService/GetStructure", R"({"name": "structures/73282932000074"})", "", &body),
            401);
  EXPECT_EQ(body.fields().at("code").string_value(), "unauthenticated");
  EXPECT_EQ(ReasonOf(body), "CREDENTIALS_MISSING");
  EXPECT_EQ(
      Curl("habilis.v1.StructureService/GetStructure", R"({"name": "structures/not-a-siret"})", operator_key_, &body),
      400);
  EXPECT_EQ(body.fields().at("code").string_value(), "invalid_argument");
  EXPECT_EQ(Curl("habilis.v1.StructureService/GetStructure", R"({"nom": "x"})", operator_key_, &body), 400);
  EXPECT_EQ(ReasonOf(body), "REQUEST_UNDECODABLE");
  EXPECT_EQ(Curl("habilis.v1.StructureService/GetStructure", "{not json", operator_key_, &body), 400);
  EXPECT_EQ(ReasonOf(body), "REQUEST_UNDECODABLE");
  EXPECT_EQ(Curl("habilis.v1.NoSuchService/Get", "{}", operator_key_, &body), 404);
  EXPECT_EQ(Curl("habilis.v1.AccountFileService/ImportAccounts", "{}", operator_key_, &body), 404)
      << "streaming methods are gRPC only";

  testing::HttpResponse wrong_type =
      testing::Http("POST", base_ + "/habilis.v1.StructureService/GetStructure", {"Content-Type: text/plain"}, "{}");
  EXPECT_EQ(wrong_type.status, 415);
  testing::HttpResponse get = testing::Http("GET", base_ + "/habilis.v1.StructureService/GetStructure");
  EXPECT_EQ(get.status, 405);
  testing::HttpResponse too_large = testing::Http("POST", base_ + "/habilis.v1.StructureService/GetStructure",
                                                  {"Content-Type: application/json"}, std::string(5 << 20, ' '));
  EXPECT_EQ(too_large.status, 413) << "refused by the HTTP server before it is read";
}

// HTTP/2 in clear text: by prior knowledge (gRPC-style) and by Upgrade: h2c, several calls multiplexed on one
// connection. (One call per curl run by prior knowledge: bookworm's curl 7.88 cannot reuse such a connection,
// curl issue 10634, fixed in 8.0.)
TEST_F(HttpJsonTest, Http2InClearTextByPriorKnowledgeAndByUpgrade) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string url = base_ + "/habilis.v1.AccessService/CheckAccess";
  const std::vector<std::string> check = {
      "-H",
      "Authorization: Bearer " + application_key_,
      "-H",
      "Content-Type: application/json",
      "-d",
      R"({"loginEmail": "nobody@example.fr", "profile": "applications/portail-partenaires/profiles/utilisateur"})"};
  std::vector<std::string> prior_knowledge = check;
  prior_knowledge.push_back("--http2-prior-knowledge");
  EXPECT_EQ(CurlVersions(prior_knowledge, url), std::vector<std::string>{"2 200"});
  std::vector<std::string> upgrade = check;
  upgrade.insert(upgrade.end(), {"--http2", "--parallel"});
  EXPECT_EQ(CurlVersions(upgrade, url, 8), std::vector<std::string>(8, "2 200"));
  std::vector<std::string> http1 = check;
  http1.push_back("--http1.1");
  EXPECT_EQ(CurlVersions(http1, url), std::vector<std::string>{"1.1 200"});
}

// Clients that hang up while their call runs (a login takes a password hash's time): their answers are dropped
// and the gateway goes on serving (under ASan, this also proves no answer is written into a request gone).
TEST_F(HttpJsonTest, ClientsThatLeaveBeforeTheirAnswerLeaveTheGatewayServing) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::vector<std::string> login = {
      "--max-time",
      "0.02",
      "-H",
      "Content-Type: application/json",
      "-d",
      R"({"loginEmail": "lea.durand@demo-sur-mer.fr", "password": "not her password", "deviceLabel": "l"})"};
  for (const char* version : {"--http2", "--http1.1"}) {
    std::vector<std::string> args = login;
    args.insert(args.end(), {version, "--parallel"});
    EXPECT_EQ(CurlVersions(args, base_ + "/habilis.v1.SessionService/Login", 10).size(), 10u);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  google::protobuf::Struct body;
  EXPECT_EQ(Curl("habilis.v1.StructureService/GetStructure", R"({"name": "structures/73282932000074"})", operator_key_,
                 &body),
            200);
  EXPECT_EQ(process_->Terminate(), 0) << "and stops cleanly";
}

TEST_F(HttpJsonTest, CorsAnswersTheConfiguredOriginsOnly) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string url = base_ + "/habilis.v1.StructureService/GetStructure";
  testing::HttpResponse preflight =
      testing::Http("OPTIONS", url,
                    {"Origin: https://portail.example.fr", "Access-Control-Request-Method: POST",
                     "Access-Control-Request-Headers: authorization, content-type"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "https://portail.example.fr");
  EXPECT_NE(preflight.headers["access-control-allow-headers"].find("Authorization"), std::string::npos);
  testing::HttpResponse stranger = testing::Http("OPTIONS", url, {"Origin: https://evil.example.com"});
  EXPECT_EQ(stranger.status, 403);
  EXPECT_EQ(stranger.headers.count("access-control-allow-origin"), 0u);

  testing::HttpResponse call = testing::Http(
      "POST", url,
      {"Origin: https://autre.example.fr", "Content-Type: application/json", "Authorization: Bearer " + operator_key_},
      R"({"name": "structures/73282932000074"})");
  EXPECT_EQ(call.status, 200);
  EXPECT_EQ(call.headers["access-control-allow-origin"], "https://autre.example.fr");
  testing::HttpResponse foreign =
      testing::Http("POST", url, {"Origin: https://evil.example.com", "Content-Type: application/json"}, "{}");
  EXPECT_EQ(foreign.headers.count("access-control-allow-origin"), 0u);
}

// The gateway forwards the HTTP client's address; the gate believes that header from the gateway only.
TEST_F(HttpJsonTest, AttemptLimitsCountTheHttpClientAndTheForwardedAddressCannotBeForged) {
  ASSERT_NO_FATAL_FAILURE(Start({"--attempts-per-peer-burst", "2", "--attempts-per-peer-per-minute", "0.01"}));
  const std::string login = R"({"loginEmail": "x@example.fr", "password": "wrong password", "deviceLabel": "l"})";
  google::protobuf::Struct body;
  EXPECT_EQ(Curl("habilis.v1.SessionService/Login", login, "", &body), 401);
  EXPECT_EQ(Curl("habilis.v1.SessionService/Login", login, "", &body), 401);
  EXPECT_EQ(Curl("habilis.v1.SessionService/Login", login, "", &body), 429);
  EXPECT_EQ(ReasonOf(body), "TOO_MANY_ATTEMPTS");

  // The same address over gRPC has used its attempts too, whatever address it claims.
  auto sessions = v1::SessionService::NewStub(client::Connect(process_->target()));
  grpc::ClientContext context;
  context.AddMetadata("x-habilis-http-client", "ipv4:10.1.2.3:4567");
  v1::LoginRequest request;
  request.set_login_email("x@example.fr");
  request.set_password("wrong password");
  request.set_device_label("l");
  v1::LoginResponse response;
  EXPECT_EQ(sessions->Login(&context, request, &response).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace habilis

namespace habilis {
namespace {

// E-mail through a relay that requires STARTTLS and a login, with the password from a file.
class SmtpSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system(absl::StrCat(HABILIS_SOURCE_DIR "/deploy/dev-certs.sh ", certs_, " >/dev/null").c_str()), 0);
    WriteFile(dir_.Sub("relay-login"), "habilis-relay\ns3cret relay password\n");
    auto sink = testing::SmtpSink::Start(
        {.tls_cert = certs_ + "/server.pem", .tls_key = certs_ + "/server.key", .auth_file = dir_.Sub("relay-login")});
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = std::move(sink).value();
  }

  std::unique_ptr<testing::HabilisdProcess> Start(const std::string& credentials) {
    WriteFile(dir_.Sub("credentials"), credentials);
    auto process = testing::HabilisdProcess::Start(
        dir_.Sub(absl::StrCat("data", starts_++)),
        {"--seed-demo", "--smtp-url", sink_->url(), "--smtp-starttls", "--smtp-ca-file", certs_ + "/ca.pem",
         "--smtp-credentials-file", dir_.Sub("credentials"), "--mail-poll-ms", "20"},
        dir_.Sub("stderr.log"));
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? std::move(process).value() : nullptr;
  }

  testing::TempDir dir_;
  const std::string certs_ = dir_.Sub("certs");
  std::unique_ptr<testing::SmtpSink> sink_;
  int starts_ = 0;
};

TEST_F(SmtpSecurityTest, MailGoesOverStartTlsWithTheLoginFromTheCredentialsFile) {
  auto process = Start("habilis-relay\ns3cret relay password\n");
  ASSERT_NE(process, nullptr);
  auto auth = sink_->Next([](const testing::ReceivedMail& mail) { return mail.kind == "AUTH"; });
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->subject, "accepted");
  auto mail = sink_->NextTo("lea.durand@demo-sur-mer.fr", "ACTIVATION");
  ASSERT_TRUE(mail.ok()) << mail.status();
  process->Terminate();
  EXPECT_EQ(ReadFile(dir_.Sub("stderr.log")).find("s3cret"), std::string::npos) << "the password is never logged";
}

TEST_F(SmtpSecurityTest, AWrongPasswordDeliversNothing) {
  auto process = Start("habilis-relay\nnot the password\n");
  ASSERT_NE(process, nullptr);
  auto auth = sink_->Next([](const testing::ReceivedMail& mail) { return mail.kind == "AUTH"; });
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->subject, "refused");
  EXPECT_FALSE(sink_->NextTo("lea.durand@demo-sur-mer.fr", "ACTIVATION", absl::Seconds(2)).ok())
      << "the messages wait in the outbox";
}

TEST(SmtpSettingsTest, CredentialsWithoutTlsOrAnUnreadableFileStopStartUp) {
  testing::TempDir dir;
  WriteFile(dir.Sub("credentials"), "user\npassword\n");
  RunResult plain = RunHabilisd({"--data-dir", dir.Sub("data"), "--smtp-url", "smtp://127.0.0.1:25",
                                 "--smtp-credentials-file", dir.Sub("credentials")});
  EXPECT_EQ(plain.exit_code, 2);
  EXPECT_NE(plain.err.find("--smtp-credentials-file needs TLS"), std::string::npos) << plain.err;
  RunResult missing = RunHabilisd({"--data-dir", dir.Sub("data"), "--listen", "127.0.0.1:0", "--smtp-url",
                                   "smtps://127.0.0.1:465", "--smtp-credentials-file", dir.Sub("nowhere")});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--smtp-credentials-file"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace habilis

namespace habilis {
namespace {

// OPERATIONS.md "Upgrades": a data directory written by the previous format version (tests/fixtures, written by
// habilisd at format 1 with the demo) is refused with the command to run, migrated, then served.
TEST(UpgradeTest, AFormat1DirectoryIsRefusedThenMigratedAndServed) {
  testing::TempDir dir;
  ASSERT_EQ(
      std::system(
          absl::StrCat("tar xzf " HABILIS_SOURCE_DIR "/tests/fixtures/store-format-1.tar.gz -C ", dir.path()).c_str()),
      0);
  const std::string data = dir.Sub("data");
  RunResult refused = RunHabilisd({"--data-dir", data, "--listen", "127.0.0.1:0"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("holds store format 1"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("habilis-migrate --data-dir"), std::string::npos) << refused.err;

  RunResult check = testing::RunProgram(HABILIS_MIGRATE_PATH, {"--data-dir", data, "--check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("format 1 -> 2"), std::string::npos) << check.out;
  RunResult migrated = testing::RunProgram(HABILIS_MIGRATE_PATH, {"--data-dir", data});
  EXPECT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("the store is at format 3"), std::string::npos) << migrated.out;
  RunResult again = testing::RunProgram(HABILIS_MIGRATE_PATH, {"--data-dir", data});
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;

  auto process = testing::HabilisdProcess::Start(data);
  ASSERT_TRUE(process.ok()) << process.status();
  auto org_chart = v1::OrgChartService::NewStub(client::Connect((*process)->target()));
  grpc::ClientContext context;
  client::Authorize(context, DemoKey(data, "HABILIS_OPERATOR_KEY"));
  v1::GetServiceTreeRequest request;
  request.set_structure("structures/73282932000074");
  v1::GetServiceTreeResponse tree;
  grpc::Status status = org_chart->GetServiceTree(&context, request, &tree);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(tree.service_count(), 4) << "the data written at format 1 is served";

  RunResult busy = testing::RunProgram(HABILIS_MIGRATE_PATH, {"--data-dir", data});
  EXPECT_NE(busy.exit_code, 0) << "a directory a server holds is not migrated under it";
}

}  // namespace
}  // namespace habilis
