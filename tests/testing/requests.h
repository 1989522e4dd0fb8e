// Requests many tests start from, written once.
#ifndef HABILIS_TESTS_TESTING_REQUESTS_H_
#define HABILIS_TESTS_TESTING_REQUESTS_H_

#include <string>

#include "habilis/v1/entitlements.pb.h"
#include "habilis/v1/sessions.pb.h"
#include "habilis/v1/structures.pb.h"

namespace habilis::testing {

// CreateStructure of the commune every integration test's world is built around (SIRET 73282932000074).
inline v1::CreateStructureRequest CommuneStructureRequest() {
  v1::CreateStructureRequest request;
  v1::Structure& structure = *request.mutable_structure();
  structure.set_siret("73282932000074");
  structure.set_category("Commune");
  structure.set_display_name("Commune");
  structure.set_address("1 place");
  structure.set_postal_code("29200");
  structure.set_city("Brest");
  return request;
}

// HAB-GRANT of `profile` to `account` in `structure`, and HAB-REVOKE of its application's profile.
inline v1::GrantHabilitationRequest GrantRequest(const std::string& structure, const std::string& account,
                                                 const std::string& profile) {
  v1::GrantHabilitationRequest grant;
  grant.set_structure(structure);
  grant.set_account(account);
  grant.set_profile(profile);
  return grant;
}
inline v1::RevokeHabilitationRequest RevokeRequest(const std::string& structure, const std::string& account,
                                                   const std::string& application) {
  v1::RevokeHabilitationRequest revoke;
  revoke.set_structure(structure);
  revoke.set_account(account);
  revoke.set_application(application);
  return revoke;
}

// Login of `login` with `password`, from a device labelled "test".
inline v1::LoginRequest LoginRequest(const std::string& login, const std::string& password) {
  v1::LoginRequest request;
  request.set_login_email(login);
  request.set_password(password);
  request.set_device_label("test");
  return request;
}

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_REQUESTS_H_
