#include "clients/habilisctl/connection.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "clients/cpp/client.h"

namespace habilis::ctl {
namespace {

std::string DefaultConfigDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/habilis");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.config/habilis");
  }
  return ".habilis";
}

// A version-4 UUID, for request_id.
std::string NewRequestId() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> bits;
  uint32_t a = bits(device), b = bits(device), c = bits(device), d = bits(device);
  b = (b & 0xFFFF0FFF) | 0x00004000;  // version 4
  c = (c & 0x3FFFFFFF) | 0x80000000;  // RFC 4122 variant
  return absl::StrFormat("%08x-%04x-%04x-%04x-%04x%08x", a, b >> 16, b & 0xFFFF, c >> 16, c & 0xFFFF, d);
}

void SetStringIfPresent(google::protobuf::Message& message, const char* name, const std::string& value) {
  const google::protobuf::FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING) return;
  if (message.GetReflection()->GetString(message, field).empty()) {
    message.GetReflection()->SetString(&message, field, value);
  }
}

}  // namespace

std::string SessionFile::directory() const {
  return settings_.config_dir.empty() ? DefaultConfigDir() : settings_.config_dir;
}

std::map<std::string, std::string> SessionFile::Read() const {
  std::map<std::string, std::string> values;
  std::ifstream in(path());
  for (std::string line; std::getline(in, line);) {
    const size_t equals = line.find('=');
    if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

absl::Status SessionFile::Write(const std::map<std::string, std::string>& values) const {
  const std::string path = this->path();
  ::mkdir(directory().c_str(), 0700);  // the parent (~/.config) normally exists
  const std::string temporary = path + ".new";
  ::umask(077);
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& [key, value] : values) out << key << "=" << value << "\n";
    out.close();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", temporary));
  }
  ::chmod(temporary.c_str(), 0600);
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot replace ", path));
  }
  return absl::OkStatus();
}

void SessionFile::Remove() const { std::remove(path().c_str()); }

std::string Connection::Server() const {
  if (!settings_.server.empty()) return settings_.server;
  auto session = session_.Read();
  if (!session["server"].empty()) return session["server"];
  return "127.0.0.1:50051";
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connection::Channel() {
  if (channel_ != nullptr) return channel_;
  if (settings_.tls || !settings_.tls_ca.empty() || !settings_.tls_cert.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        client::ConnectTls(Server(), settings_.tls_ca, settings_.tls_cert, settings_.tls_key);
    if (!channel.ok()) return channel.status();
    channel_ = *channel;
  } else {
    channel_ = client::Connect(Server());
  }
  return channel_;
}

absl::StatusOr<std::string> Connection::Bearer() const {
  if (!settings_.key_file.empty()) {
    std::ifstream in(settings_.key_file);
    std::string key;
    if (!in || !std::getline(in, key)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot read an API key from ", settings_.key_file));
    }
    return std::string(absl::StripAsciiWhitespace(key));
  }
  if (const char* key = std::getenv("HABILIS_KEY"); key != nullptr && *key != '\0') {
    return std::string(absl::StripAsciiWhitespace(key));
  }
  return session_.Read()["token"];
}

grpc::Status Connection::Call(google::protobuf::Message& request, google::protobuf::Message& response) {
  return Send(request, response, true);
}

grpc::Status Connection::CallAnonymously(google::protobuf::Message& request, google::protobuf::Message& response) {
  return Send(request, response, false);
}

grpc::Status Connection::Send(google::protobuf::Message& request, google::protobuf::Message& response,
                              bool with_credential) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Channel();
  if (!channel.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(channel.status().message()));
  std::string bearer;
  if (with_credential) {
    absl::StatusOr<std::string> found = Bearer();
    if (!found.ok()) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(found.status().message()));
    bearer = *found;
  }
  SetStringIfPresent(request, "request_id", NewRequestId());
  if (settings_.dry_run) {
    const google::protobuf::FieldDescriptor* field = request.GetDescriptor()->FindFieldByName("validate_only");
    if (field != nullptr) request.GetReflection()->SetBool(&request, field, true);
  }
  return client::Call(*channel, bearer, request, response);
}

}  // namespace habilis::ctl
