// The authorization matrix: every unary RPC of habilis, as each kind of caller, against an existing target
// and a missing one. A caller without the right gets the same PERMISSION_DENIED (UNAUTHENTICATED without
// credentials) whether the target exists or not; a caller with the right is never refused by the gate.
#include <future>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cpp/client.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "habilis/v1/access.grpc.pb.h"
#include "habilis/v1/account_files.grpc.pb.h"
#include "habilis/v1/accounts.grpc.pb.h"
#include "habilis/v1/api_keys.grpc.pb.h"
#include "habilis/v1/applications.grpc.pb.h"
#include "habilis/v1/audit.grpc.pb.h"
#include "habilis/v1/entitlements.grpc.pb.h"
#include "habilis/v1/invitations.grpc.pb.h"
#include "habilis/v1/operations.grpc.pb.h"
#include "habilis/v1/org_chart.grpc.pb.h"
#include "habilis/v1/sessions.grpc.pb.h"
#include "habilis/v1/structures.grpc.pb.h"
#include "tests/testing/habilisd_process.h"
#include "tests/testing/reflection.h"
#include "tests/testing/smtp_sink.h"
#include "tests/testing/temp_dir.h"

namespace habilis {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The callers, in the order of the expectation strings below.
enum Caller { kOperator, kAdmin, kAdminElsewhere, kResponsable, kResponsableElsewhere, kCollaborator, kApp, kNobody };
constexpr int kCallers = 8;
constexpr const char* kCallerNames[] = {"operator",
                                        "administrator of the target structure",
                                        "administrator of another structure",
                                        "responsable of the target service",
                                        "responsable of another service",
                                        "collaborator",
                                        "client application",
                                        "unauthenticated"};

// Per RPC, one character per caller: Y allowed, o allowed on its own application only, - refused. A table:
// long, not complex.
const std::map<std::string, std::string>& Expectations() {  // NOLINT(readability-function-size)
  static const auto* table = new std::map<std::string, std::string>{
      {"habilis.v1.StructureService/CreateStructure", "Y-------"},
      {"habilis.v1.StructureService/GetStructure", "YY------"},
      {"habilis.v1.StructureService/ListStructures", "Y-------"},
      {"habilis.v1.StructureService/UpdateStructure", "YY------"},
      {"habilis.v1.OrgChartService/CreateService", "YY------"},
      {"habilis.v1.OrgChartService/GetService", "YY-YY---"},
      {"habilis.v1.OrgChartService/ListServices", "YY-YY---"},
      {"habilis.v1.OrgChartService/UpdateService", "YY------"},
      {"habilis.v1.OrgChartService/MergeServices", "YY------"},
      {"habilis.v1.OrgChartService/BatchDeleteServices", "YY------"},
      {"habilis.v1.OrgChartService/GetServiceTree", "YY-YY---"},
      {"habilis.v1.ApplicationService/CreateApplication", "Y-------"},
      {"habilis.v1.ApplicationService/GetApplication", "YYYYYYo-"},
      {"habilis.v1.ApplicationService/ListApplications", "Y-------"},
      {"habilis.v1.ApplicationService/CreateProfile", "Y-------"},
      {"habilis.v1.ApplicationService/ListProfiles", "YYYYYYo-"},
      {"habilis.v1.ApplicationService/RetireProfile", "Y-------"},
      {"habilis.v1.ApiKeyService/CreateApiKey", "Y-------"},
      {"habilis.v1.ApiKeyService/ListApiKeys", "Y-------"},
      {"habilis.v1.ApiKeyService/RevokeApiKey", "Y-------"},
      {"habilis.v1.OperationsService/CreateBackup", "Y-------"},
      {"habilis.v1.AccountService/CreateAccount", "YY-Y----"},
      {"habilis.v1.AccountService/GetAccount", "YY-Y----"},
      {"habilis.v1.AccountService/ListAccounts", "YY-YY---"},
      {"habilis.v1.AccountService/UpdateAccount", "YY------"},
      {"habilis.v1.AccountService/ActivateAccount", "YY-Y----"},
      {"habilis.v1.AccountService/DeactivateAccount", "Y-------"},
      {"habilis.v1.AccountService/UnlockAccount", "YY------"},
      {"habilis.v1.AccountService/SendPasswordReset", "YY------"},
      {"habilis.v1.AccountService/ResendIdentifier", "YY------"},
      {"habilis.v1.AccountService/UpdateMembership", "YY------"},
      {"habilis.v1.AccountService/SuspendMembership", "YY------"},
      {"habilis.v1.AccountService/ResumeMembership", "YY------"},
      {"habilis.v1.AccountService/RemoveMembership", "YY------"},
      {"habilis.v1.AccountService/TransferAccounts", "YY------"},
      {"habilis.v1.AccountService/RequestAccountDeletion", "YY------"},
      {"habilis.v1.AccountService/ListDeletionRequests", "YY------"},
      {"habilis.v1.AccountService/DecideDeletionRequest", "Y-------"},
      {"habilis.v1.InvitationService/SendInvitations", "YY-Y----"},
      {"habilis.v1.InvitationService/FillInvitation", "YYYYYYYY"},
      {"habilis.v1.InvitationService/GetInvitationByLink", "YYYYYYYY"},
      {"habilis.v1.InvitationService/ResendInvitations", "YY------"},
      {"habilis.v1.InvitationService/ListInvitations", "YY-YY---"},
      {"habilis.v1.InvitationService/DecideInvitations", "YY------"},
      {"habilis.v1.SessionService/Login", "YYYYYYYY"},
      {"habilis.v1.SessionService/ConfirmLoginCode", "YYYYYYYY"},
      {"habilis.v1.SessionService/RequestPasswordReset", "YYYYYYYY"},
      {"habilis.v1.SessionService/SetPasswordWithLink", "YYYYYYYY"},
      {"habilis.v1.AccountService/ConfirmNotificationEmail", "YYYYYYYY"},
      {"habilis.v1.AccountService/ConfirmLoginEmail", "YYYYYYYY"},
      {"habilis.v1.AccountService/AcceptJoin", "YYYYYYYY"},
      {"habilis.v1.SessionService/UnlockWithLink", "YYYYYYYY"},
      {"habilis.v1.SessionService/SuggestPassword", "YYYYYYYY"},
      {"habilis.v1.SessionService/AcceptPrivacyPolicy", "YYYYYY--"},
      {"habilis.v1.SessionService/ChangePassword", "YYYYYY--"},
      {"habilis.v1.SessionService/ListSessions", "YY------"},
      {"habilis.v1.SessionService/EndSession", "YY------"},
      {"habilis.v1.SessionService/Logout", "YYYYYY--"},
      {"habilis.v1.EntitlementService/CreateSubscription", "Y-------"},
      {"habilis.v1.EntitlementService/ListSubscriptions", "YY-YY---"},
      {"habilis.v1.EntitlementService/DeleteSubscription", "Y-------"},
      {"habilis.v1.EntitlementService/GrantHabilitation", "YY-Y----"},
      {"habilis.v1.EntitlementService/RevokeHabilitation", "YY-Y----"},
      {"habilis.v1.EntitlementService/ListHabilitations", "YY-YY---"},
      {"habilis.v1.EntitlementService/ListAccountApplications", "YY-Y----"},
      {"habilis.v1.EntitlementService/GrantDelegations", "YY------"},
      {"habilis.v1.EntitlementService/RevokeDelegations", "YY------"},
      {"habilis.v1.EntitlementService/ListDelegations", "YY------"},
      {"habilis.v1.AccessService/CheckAccess", "------Y-"},
      {"habilis.v1.AccessService/BatchCheck", "------Y-"},
      {"habilis.v1.AccessService/ListEntitlements", "------Y-"},
      {"habilis.v1.AccessService/LookupAccounts", "------Y-"},
      {"habilis.v1.AuditService/ListAuditEntries", "Y-------"},
  };
  return *table;
}

// The resources a request names, existing or missing.
struct Targets {
  std::string structure, service, account, application, profile, api_key, subscription, session, email;
};

constexpr char kSiret[] = "73282932000074";
constexpr char kOtherSiret[] = "44306184100047";

Targets Existing(const std::string& account, const std::string& api_key, const std::string& session) {
  return {std::string("structures/") + kSiret,
          std::string("structures/") + kSiret + "/services/finances",
          account,
          "applications/portail",
          "applications/portail/profiles/utilisateur",
          api_key,
          std::string("structures/") + kSiret + "/subscriptions/portail",
          session,
          "target@example.fr"};
}

Targets Missing() {
  return {"structures/55210055400013",
          "structures/55210055400013/services/finances",
          "accounts/ffffffffffffffff",
          "applications/absente",
          "applications/absente/profiles/p",
          "apiKeys/ffffffffffffffff",
          "structures/55210055400013/subscriptions/absente",
          "accounts/ffffffffffffffff/sessions/ffffffffffffffff",
          "nobody@example.fr"};
}

// Which resource a `name` or `parent` field names, for the RPCs where it is not a structure.
std::string NameOf(const std::string& method, const std::string& field, const Targets& t) {
  static const std::map<std::string, std::string Targets::*> kNames = {
      {"StructureService/GetStructure", &Targets::structure},
      {"OrgChartService/GetService", &Targets::service},
      {"ApplicationService/GetApplication", &Targets::application},
      {"ApplicationService/RetireProfile", &Targets::profile},
      {"ApiKeyService/RevokeApiKey", &Targets::api_key},
      {"AccountService/GetAccount", &Targets::account},
      {"AccountService/ActivateAccount", &Targets::account},
      {"AccountService/DeactivateAccount", &Targets::account},
      {"AccountService/UnlockAccount", &Targets::account},
      {"AccountService/SendPasswordReset", &Targets::account},
      {"AccountService/ResendIdentifier", &Targets::account},
      {"AccountService/RequestAccountDeletion", &Targets::account},
      {"EntitlementService/DeleteSubscription", &Targets::subscription},
      {"SessionService/EndSession", &Targets::session},
  };
  static const std::map<std::string, std::string Targets::*> kParents = {
      {"ApplicationService/CreateProfile", &Targets::application},
      {"ApplicationService/ListProfiles", &Targets::application},
      {"SessionService/ListSessions", &Targets::account},
  };
  std::string short_method = method.substr(method.find('.', 8) + 1);
  const auto& table = field == "name" ? kNames : kParents;
  auto it = table.find(short_method);
  if (it != table.end()) return t.*(it->second);
  return field == "name" ? "deletionRequests/ffffffffffffffff" : t.structure;
}

void Fill(const std::string& method, Message& message, const Targets& t, bool top = true);

// The value of the single string field `n` of a message of type `type` (a nested one unless `top`).
std::string StringValue(const std::string& method, const std::string& n, const std::string& type, const Targets& t,
                        bool top) {
  if (n == "name" && !top) {
    return type == "Structure" ? t.structure : type == "Service" ? t.service : type == "Account" ? t.account : "";
  }
  if (n == "name" || n == "parent") return top ? NameOf(method, n, t) : "";
  if (n == "structure") return t.structure;
  if (n == "account") return t.account;
  if (n == "application") return t.application;
  if (n == "profile") return t.profile;
  if (n == "service" || n == "target") return t.service;
  if (n == "current_password") return "not the password";
  return "";
}

void FillStringField(const std::string& method, Message& message, const FieldDescriptor* field, const Targets& t,
                     bool top) {
  const auto* reflection = message.GetReflection();
  const std::string& n = field->name();
  if (field->is_repeated()) {
    if (n == "sources" || n == "names") reflection->AddString(&message, field, t.service);
    if (n == "emails" || n == "login_emails") reflection->AddString(&message, field, t.email);
    if (n == "profiles") reflection->AddString(&message, field, t.profile);
  } else if (field->containing_oneof() != nullptr) {
    if (n == "account") reflection->SetString(&message, field, t.account);
    if (n == "profile") reflection->SetString(&message, field, t.profile);
  } else if (std::string value = StringValue(method, n, message.GetDescriptor()->name(), t, top); !value.empty()) {
    reflection->SetString(&message, field, value);
  }
}

// The resources a request carries (a structure, a service, an account, a membership) and BatchCheck's checks.
void FillMessageField(const std::string& method, Message& message, const FieldDescriptor* field, const Targets& t) {
  const auto* reflection = message.GetReflection();
  if (field->is_repeated()) {
    if (field->name() == "checks") Fill(method, *reflection->AddMessage(&message, field), t, false);
    return;
  }
  const std::string& type = field->message_type()->name();
  if (type != "Structure" && type != "Service" && type != "Account" && type != "Membership") return;
  Message* nested = reflection->MutableMessage(&message, field);
  Fill(method, *nested, t, false);
  if (type == "Membership") {
    const auto* structure_field = nested->GetDescriptor()->FindFieldByName("structure");
    nested->GetReflection()->SetString(nested, structure_field, t.structure);
  }
}

// Fills every field a request names a target with, and validate_only, so that allowed calls change nothing
// they are not meant to.
void Fill(const std::string& method, Message& message, const Targets& t, bool top) {
  const auto* descriptor = message.GetDescriptor();
  const auto* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (field->type() == FieldDescriptor::TYPE_BOOL && field->name() == "validate_only") {
      reflection->SetBool(&message, field, true);
    } else if (field->type() == FieldDescriptor::TYPE_ENUM && field->name() == "role") {
      reflection->SetEnumValue(&message, field, v1::COLLABORATOR);
    } else if (field->type() == FieldDescriptor::TYPE_STRING) {
      FillStringField(method, message, field, t, top);
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      FillMessageField(method, message, field, t);
    }
  }
}

// Links every API file's generated code into this binary, so that its descriptors are in the generated pool.
void LinkApiDescriptors() {
  for (const auto* d : {v1::CreateStructureRequest::descriptor(), v1::CreateServiceRequest::descriptor(),
                        v1::CreateApplicationRequest::descriptor(), v1::CreateApiKeyRequest::descriptor(),
                        v1::CreateAccountRequest::descriptor(), v1::SendInvitationsRequest::descriptor(),
                        v1::LoginRequest::descriptor(), v1::GrantHabilitationRequest::descriptor(),
                        v1::CheckAccessRequest::descriptor(), v1::ListAuditEntriesRequest::descriptor(),
                        v1::ExportAccountsRequest::descriptor(), v1::CreateBackupRequest::descriptor()}) {
    ASSERT_NE(d, nullptr);
  }
}

class AuthzMatrixTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LinkApiDescriptors();
    shared_ = new Shared();
  }
  static void TearDownTestSuite() { delete shared_; }

  // One server and one set of callers for the whole matrix: setting them up takes logins and e-mails.
  struct Shared {
    Shared() { Setup(); }
    void Setup();
    void StartServer();
    void CreateCatalog();
    void Enrol(const struct Person& p);
    std::unique_ptr<grpc::ClientContext> AsOperator();
    grpc::Status Call(const std::string& method, const Message& request, Caller caller);

    testing::TempDir dir;
    std::unique_ptr<testing::SmtpSink> sink;
    std::unique_ptr<testing::HabilisdProcess> process;
    std::shared_ptr<grpc::Channel> channel;
    std::string bearer[kCallers];
    std::string target_account, api_key, session;
    bool ready = false;
  };
  static Shared* shared_;
};

AuthzMatrixTest::Shared* AuthzMatrixTest::shared_ = nullptr;

grpc::Status AuthzMatrixTest::Shared::Call(const std::string& method, const Message& request, Caller caller) {
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  if (!bearer[caller].empty()) client::Authorize(context, bearer[caller]);
  grpc::ByteBuffer request_buffer, response_buffer;
  bool own = false;
  grpc::Status serialized = grpc::GenericSerialize<grpc::ProtoBufferWriter, Message>(request, &request_buffer, &own);
  EXPECT_TRUE(serialized.ok());
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/" + method, grpc::StubOptions(), &request_buffer, &response_buffer,
                 [&](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

// A person of the matrix: created, activated, password set from the e-mailed link, logged in, consenting.
struct Person {
  std::string login;
  const char* siret;
  v1::Role role;
  const char* service;
  int caller;  // -1 for the target account
};

std::unique_ptr<grpc::ClientContext> AuthzMatrixTest::Shared::AsOperator() {
  auto c = std::make_unique<grpc::ClientContext>();
  client::Authorize(*c, bearer[kOperator]);
  return c;
}

void AuthzMatrixTest::Shared::Setup() {
  StartServer();
  if (::testing::Test::HasFatalFailure()) return;
  CreateCatalog();
  if (::testing::Test::HasFatalFailure()) return;
  const Person people[] = {{"admin@example.fr", kSiret, v1::ADMINISTRATOR, "", kAdmin},
                           {"elsewhere@example.fr", kOtherSiret, v1::ADMINISTRATOR, "", kAdminElsewhere},
                           {"resp@example.fr", kSiret, v1::RESPONSABLE, "finances", kResponsable},
                           {"resp-rh@example.fr", kSiret, v1::RESPONSABLE, "rh", kResponsableElsewhere},
                           {"collab@example.fr", kSiret, v1::COLLABORATOR, "finances", kCollaborator},
                           {"target@example.fr", kSiret, v1::COLLABORATOR, "finances", -1}};
  for (const Person& p : people) {
    Enrol(p);
    if (::testing::Test::HasFatalFailure()) return;
  }
  ready = true;
}

void AuthzMatrixTest::Shared::StartServer() {
  auto started = testing::SmtpSink::Start();
  ASSERT_TRUE(started.ok());
  sink = std::move(started).value();
  testing::RunResult key = testing::RunHabilisd({"--data-dir", dir.Sub("data"), "--create-operator-key", "t"});
  ASSERT_EQ(key.exit_code, 0);
  bearer[kOperator] = std::string(absl::StripAsciiWhitespace(key.out));
  // Every caller of the matrix comes from this one address: its self-proving calls would pass the
  // per-address attempt limit meant for one person.
  auto server = testing::HabilisdProcess::Start(
      dir.Sub("data"), {"--smtp-url", sink->url(), "--mail-poll-ms", "50", "--login-codes-for-administrators", "false",
                        "--attempts-per-peer-burst", "1000"});
  ASSERT_TRUE(server.ok()) << server.status();
  process = std::move(server).value();
  channel = client::Connect(process->target());
}

// Two structures, two services, an application with a profile the structure subscribes to, and its key.
void AuthzMatrixTest::Shared::CreateCatalog() {
  auto op = [&] { return AsOperator(); };
  auto structures = v1::StructureService::NewStub(channel);
  auto org = v1::OrgChartService::NewStub(channel);
  auto apps = v1::ApplicationService::NewStub(channel);
  auto keys = v1::ApiKeyService::NewStub(channel);
  auto entitlements = v1::EntitlementService::NewStub(channel);
  for (const char* siret : {kSiret, kOtherSiret}) {
    v1::CreateStructureRequest r;
    r.mutable_structure()->set_siret(siret);
    r.mutable_structure()->set_category("Commune");
    r.mutable_structure()->set_display_name("Structure");
    r.mutable_structure()->set_address("1 place");
    r.mutable_structure()->set_postal_code("29200");
    r.mutable_structure()->set_city("Brest");
    v1::CreateStructureResponse out;
    ASSERT_TRUE(structures->CreateStructure(op().get(), r, &out).ok());
  }
  for (const char* id : {"finances", "rh"}) {
    v1::CreateServiceRequest r;
    r.set_parent(std::string("structures/") + kSiret);
    r.set_service_id(id);
    r.mutable_service()->set_display_name(id);
    v1::CreateServiceResponse out;
    ASSERT_TRUE(org->CreateService(op().get(), r, &out).ok());
  }
  v1::CreateApplicationRequest app;
  app.set_application_id("portail");
  app.mutable_application()->set_display_name("Portail");
  v1::CreateApplicationResponse app_out;
  ASSERT_TRUE(apps->CreateApplication(op().get(), app, &app_out).ok());
  v1::CreateProfileRequest profile;
  profile.set_parent("applications/portail");
  profile.set_profile_id("utilisateur");
  profile.mutable_profile()->set_display_name("Utilisateur");
  profile.mutable_profile()->add_permissions("factures.lire");
  v1::CreateProfileResponse profile_out;
  ASSERT_TRUE(apps->CreateProfile(op().get(), profile, &profile_out).ok());
  v1::CreateSubscriptionRequest sub;
  sub.set_parent(std::string("structures/") + kSiret);
  sub.set_application("applications/portail");
  v1::CreateSubscriptionResponse sub_out;
  ASSERT_TRUE(entitlements->CreateSubscription(op().get(), sub, &sub_out).ok());
  v1::CreateApiKeyRequest app_key;
  app_key.mutable_api_key()->set_display_name("portail");
  app_key.mutable_api_key()->set_application("applications/portail");
  v1::CreateApiKeyResponse app_key_out;
  ASSERT_TRUE(keys->CreateApiKey(op().get(), app_key, &app_key_out).ok());
  bearer[kApp] = app_key_out.secret();
  api_key = app_key_out.api_key().name();
}

void AuthzMatrixTest::Shared::Enrol(const Person& p) {
  auto op = [&] { return AsOperator(); };
  auto accounts = v1::AccountService::NewStub(channel);
  auto sessions = v1::SessionService::NewStub(channel);
  v1::CreateAccountRequest create;
  create.set_parent(std::string("structures/") + p.siret);
  v1::Account* a = create.mutable_account();
  a->set_login_email(p.login);
  a->set_given_name("Prénom");
  a->set_family_name("Nom");
  a->set_address("2 rue");
  a->set_postal_code("29200");
  a->set_city("Brest");
  create.mutable_membership()->set_role(p.role);
  if (*p.service)
    create.mutable_membership()->set_service(absl::StrCat("structures/", p.siret, "/services/", p.service));
  v1::CreateAccountResponse created;
  ASSERT_TRUE(accounts->CreateAccount(op().get(), create, &created).ok()) << p.login;
  v1::ActivateAccountRequest activate;
  activate.set_name(created.account().name());
  activate.set_structure(create.parent());
  v1::ActivateAccountResponse activated;
  ASSERT_TRUE(accounts->ActivateAccount(op().get(), activate, &activated).ok());
  absl::StatusOr<testing::ReceivedMail> mail = sink->NextTo(p.login, "ACTIVATION");
  ASSERT_TRUE(mail.ok()) << mail.status();
  std::smatch match;
  ASSERT_TRUE(std::regex_search(mail->body, match, std::regex("token=(hbl_[0-9a-f]{16}_[A-Za-z0-9_-]+)")));
  grpc::ClientContext c1, c2, c3;
  v1::SetPasswordWithLinkRequest set;
  set.set_link_token(match[1].str());
  set.set_new_password("correct horse battery staple");
  v1::SetPasswordWithLinkResponse set_out;
  ASSERT_TRUE(sessions->SetPasswordWithLink(&c1, set, &set_out).ok());
  v1::LoginRequest login;
  login.set_login_email(p.login);
  login.set_password("correct horse battery staple");
  login.set_device_label("matrix");
  v1::LoginResponse session_out;
  ASSERT_TRUE(sessions->Login(&c2, login, &session_out).ok());
  client::Authorize(c3, session_out.session_token());
  v1::AcceptPrivacyPolicyResponse consent;
  ASSERT_TRUE(sessions->AcceptPrivacyPolicy(&c3, v1::AcceptPrivacyPolicyRequest(), &consent).ok());
  if (p.caller >= 0) {
    bearer[p.caller] = session_out.session_token();
  } else {
    target_account = created.account().name();
    session = session_out.session().name();
  }
}

TEST_F(AuthzMatrixTest, EveryRpcAsEveryCaller) {
  ASSERT_TRUE(shared_->ready);
  const Targets existing = Existing(shared_->target_account, shared_->api_key, shared_->session);
  const Targets missing = Missing();
  static const std::set<std::string> kGateReasons = {"CREDENTIALS_MISSING",
                                                     "CREDENTIALS_INVALID",
                                                     "RPC_NOT_IN_POLICY",
                                                     "UNAUTHENTICATED",
                                                     "NOT_ALLOWED_TO_APPLICATIONS",
                                                     "OPERATORS_ONLY",
                                                     "NOT_A_MEMBER",
                                                     "ROLE_NOT_ALLOWED",
                                                     "NOT_ALLOWED_ON_ACCOUNT",
                                                     "NO_STRUCTURE_NAMED",
                                                     "CLIENT_APPLICATIONS_ONLY",
                                                     "PERMISSION_DENIED"};

  // Logout last: it ends the caller's session.
  std::vector<std::string> methods;
  for (const auto& [method, expected] : Expectations()) {
    if (method != "habilis.v1.SessionService/Logout") methods.push_back(method);
  }
  methods.push_back("habilis.v1.SessionService/Logout");

  int calls = 0;
  for (const std::string& method : methods) {
    const std::string& expected = Expectations().at(method);
    const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
        std::string(method).replace(method.find('/'), 1, "."));
    ASSERT_NE(descriptor, nullptr) << method;
    const Message* prototype =
        google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor->input_type());
    std::unique_ptr<Message> on_existing(prototype->New()), on_missing(prototype->New());
    Fill(method, *on_existing, existing);
    Fill(method, *on_missing, missing);
    for (int c = 0; c < kCallers; ++c) {
      Caller caller = static_cast<Caller>(c);
      SCOPED_TRACE(absl::StrCat(method, " as ", kCallerNames[c]));
      grpc::Status a = shared_->Call(method, *on_existing, caller);
      ++calls;
      if (expected[c] == '-') {
        grpc::Status b = shared_->Call(method, *on_missing, caller);
        grpc::StatusCode denial =
            caller == kNobody ? grpc::StatusCode::UNAUTHENTICATED : grpc::StatusCode::PERMISSION_DENIED;
        EXPECT_EQ(a.error_code(), denial) << a.error_message();
        EXPECT_TRUE(kGateReasons.contains(client::DetailsOf(a).reason))
            << "a denial says why: " << client::DetailsOf(a).reason;
        EXPECT_EQ(b.error_code(), a.error_code()) << "a missing target answers like an existing one";
        EXPECT_EQ(b.error_message(), a.error_message());
        EXPECT_EQ(client::DetailsOf(b).reason, client::DetailsOf(a).reason);
      } else if (expected[c] == 'o') {
        // Allowed on its own application (the existing target), refused on any other: the application that
        // does not exist is refused as one that does, by the gate, where an allowed caller would learn
        // NOT_FOUND.
        EXPECT_FALSE(kGateReasons.contains(client::DetailsOf(a).reason)) << a.error_message();
        grpc::Status other = shared_->Call(method, *on_missing, caller);
        EXPECT_EQ(other.error_code(), grpc::StatusCode::PERMISSION_DENIED) << other.error_message();
        EXPECT_TRUE(kGateReasons.contains(client::DetailsOf(other).reason)) << client::DetailsOf(other).reason;
      } else {
        // The gate let it through; a rule of the command may still refuse (e.g. a responsable giving a
        // profile he does not hold), with its own reason.
        bool refused_by_gate = kGateReasons.contains(client::DetailsOf(a).reason);
        EXPECT_FALSE(refused_by_gate) << grpc::StatusCode(a.error_code()) << " " << client::DetailsOf(a).reason << ": "
                                      << a.error_message();
      }
    }
  }
  EXPECT_GE(calls, 59 * kCallers);
}

// Every unary habilis RPC the server serves is in the matrix: a new RPC, or a new service, needs its rows.
TEST_F(AuthzMatrixTest, TheMatrixCoversEveryUnaryRpcTheServerServes) {
  absl::StatusOr<std::vector<std::string>> services = testing::ServedServices(shared_->channel);
  ASSERT_TRUE(services.ok()) << services.status();
  int habilis_services = 0;
  for (const std::string& service : *services) {
    if (service.rfind("habilis.", 0) != 0) continue;
    ++habilis_services;
    const auto* descriptor = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(descriptor, nullptr) << service << ": add its request type to LinkApiDescriptors";
    for (int m = 0; m < descriptor->method_count(); ++m) {
      const auto* method = descriptor->method(m);
      if (method->client_streaming() || method->server_streaming()) continue;
      const std::string name = service + "/" + method->name();
      EXPECT_TRUE(Expectations().contains(name)) << name << " has no row in the matrix";
    }
  }
  EXPECT_GE(habilis_services, 12) << "every habilis service is served";
}

}  // namespace
}  // namespace habilis
