// The list of common passwords habilis refuses, shipped with the project (common_passwords.cc).
#ifndef HABILIS_SERVER_DOMAIN_KERNEL_COMMON_PASSWORDS_H_
#define HABILIS_SERVER_DOMAIN_KERNEL_COMMON_PASSWORDS_H_

#include "absl/strings/string_view.h"

namespace habilis::domain {

// True if the lower-cased `password` is in the list (entries are lower case).
bool IsCommonPassword(absl::string_view lowered_password);

}  // namespace habilis::domain

#endif  // HABILIS_SERVER_DOMAIN_KERNEL_COMMON_PASSWORDS_H_
