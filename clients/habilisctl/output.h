// What habilisctl prints: a response as readable text (lists as aligned tables, a resource as "field: value"
// lines) or as JSON with --json; a failed call as its code, reason and message on standard error; the exit code.
#ifndef HABILIS_CLIENTS_HABILISCTL_OUTPUT_H_
#define HABILIS_CLIENTS_HABILISCTL_OUTPUT_H_

#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"

namespace habilis::ctl {

// Exit codes (docs/CLI.md): 0 success; 1 to 16 the gRPC status code of a failed call; these for the rest.
inline constexpr int kExitUsage = 64;   // a command line that does not parse
inline constexpr int kExitInput = 66;   // a file that cannot be read
inline constexpr int kExitOutput = 73;  // a file that cannot be written

// Prints `response` on standard output.
void Print(const google::protobuf::Message& response, bool json);

// Prints why `status` failed, with its ErrorInfo reason and field violations, on standard error; returns the
// exit code (the status code).
int Fail(const grpc::Status& status);

// A failure of habilisctl itself (not of a call): prints "habilisctl: <message>" and returns `exit_code`.
int Fail(const std::string& message, int exit_code);

// One field as text: enums by name, timestamps in RFC 3339, memberships as ROLE structure/service, repeated
// values comma-separated.
std::string FieldText(const google::protobuf::Message& message, const google::protobuf::FieldDescriptor* field);

}  // namespace habilis::ctl

#endif  // HABILIS_CLIENTS_HABILISCTL_OUTPUT_H_
