# The gateway's JSON <-> protobuf mapping (a library the gateway, the
# partner tools, the unit tests and the fuzz target share) and the partner
# tools. Included by services/gateway/CMakeLists.txt.

# Every message type compiled into concerto_proto, by full name, for
# msg_types (gen_types.cmake reads the protoc-c headers).
file(GLOB_RECURSE gw_protos CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/proto/concerto/*.proto)
set(gw_proto_gen ${CMAKE_BINARY_DIR}/proto/gen)
set(gw_headers)
foreach(proto ${gw_protos})
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR}/proto ${proto})
  string(REGEX REPLACE "\\.proto$" ".pb-c.h" header ${rel})
  list(APPEND gw_headers ${header})
endforeach()
string(REPLACE ";" "," gw_header_list "${gw_headers}")
set(gw_gen ${CMAKE_CURRENT_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${gw_gen})
add_custom_command(
  OUTPUT ${gw_gen}/msg_types_table.c ${gw_gen}/gateway_protos.h
  COMMAND ${CMAKE_COMMAND} -DGEN_DIR=${gw_proto_gen} -DHEADERS=${gw_header_list}
          -DOUT_DIR=${gw_gen} -P ${CMAKE_CURRENT_LIST_DIR}/gen_types.cmake
  DEPENDS concerto_proto ${gw_protos} ${CMAKE_CURRENT_LIST_DIR}/gen_types.cmake
  COMMENT "gateway message type table")

add_library(concerto_pbjson STATIC
  ${CMAKE_CURRENT_LIST_DIR}/pb_json.c
  ${CMAKE_CURRENT_LIST_DIR}/msg_types.c
  ${gw_gen}/msg_types_table.c)
target_include_directories(concerto_pbjson PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${gw_gen})
target_link_libraries(concerto_pbjson PUBLIC
  concerto_proto concerto_common PkgConfig::JANSSON PkgConfig::SODIUM m)

# concerto-keygen --out DIR NAME: a partner's CURVE key pair.
add_executable(concerto-keygen ${CMAKE_CURRENT_LIST_DIR}/tools/keygen.c)
target_link_libraries(concerto-keygen PRIVATE concerto_common PkgConfig::ZMQ)

# concerto-publish: sends one partner event to the gateway's ingress.
add_executable(concerto-publish ${CMAKE_CURRENT_LIST_DIR}/tools/publish.c)
target_link_libraries(concerto-publish PRIVATE
  concerto_pbjson concerto_common PkgConfig::ZMQ PkgConfig::SODIUM)
