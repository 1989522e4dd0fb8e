// Requests many tests start from, written once.
#ifndef HABILIS_TESTS_TESTING_REQUESTS_H_
#define HABILIS_TESTS_TESTING_REQUESTS_H_

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

}  // namespace habilis::testing

#endif  // HABILIS_TESTS_TESTING_REQUESTS_H_
