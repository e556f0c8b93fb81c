# The gateway's JSON <-> protobuf mapping (a library the gateway, the
# partner tools, the unit tests and the fuzz target share) and the partner
# tools. Included by services/gateway/CMakeLists.txt.
add_library(concerto_pbjson STATIC
  ${CMAKE_CURRENT_LIST_DIR}/pb_json.c
  ${CMAKE_CURRENT_LIST_DIR}/msg_types.c)
target_include_directories(concerto_pbjson PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(concerto_pbjson PUBLIC
  concerto_proto concerto_common PkgConfig::JANSSON PkgConfig::SODIUM m)

# concerto-keygen --out DIR NAME: a partner's CURVE key pair.
add_executable(concerto-keygen ${CMAKE_CURRENT_LIST_DIR}/tools/keygen.c)
target_link_libraries(concerto-keygen PRIVATE concerto_common PkgConfig::ZMQ)

# concerto-publish: sends one partner event to the gateway's ingress.
add_executable(concerto-publish ${CMAKE_CURRENT_LIST_DIR}/tools/publish.c)
target_link_libraries(concerto-publish PRIVATE
  concerto_pbjson concerto_common PkgConfig::ZMQ PkgConfig::SODIUM)
