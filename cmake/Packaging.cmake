# Install layout and `cpack -G DEB`. The .deb ships the binary, the systemd unit, the example
# configs, and a man page generated from the binary's own --help (cmake/GenerateManPage.cmake).
# Check a package with scripts/package-check BUILD_DIR.
include(GNUInstallDirs)

install(TARGETS creditwatch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# PREFIX/lib/systemd/system: /usr/lib/systemd/system in the .deb, where systemd looks for
# package units (Debian 12 has a merged /usr, so /lib/systemd/system is the same directory).
install(FILES systemd/creditwatch.service DESTINATION lib/systemd/system)
# Examples under doc, not /etc: the operator writes /etc/creditwatch/creditwatch.yaml, and a
# file the package puts in /etc would become a conffile the package owns.
install(FILES config/creditwatch.example.yaml config/demo.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

if(NOT CMAKE_CROSSCOMPILING)
  set(man_page ${CMAKE_CURRENT_BINARY_DIR}/man/creditwatch.1)
  find_program(GZIP_PROGRAM gzip)
  set(man_file ${man_page})
  set(man_compress)
  if(GZIP_PROGRAM)
    set(man_file ${man_page}.gz)
    set(man_compress COMMAND ${GZIP_PROGRAM} -9nf ${man_page})
  endif()
  add_custom_command(
    OUTPUT ${man_file}
    COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:creditwatch> -DTEMPLATE=${PROJECT_SOURCE_DIR}/cmake/creditwatch.1.in
            -DOUTPUT=${man_page} -DVERSION=${PROJECT_VERSION} -P ${PROJECT_SOURCE_DIR}/cmake/GenerateManPage.cmake
    ${man_compress}
    DEPENDS creditwatch ${PROJECT_SOURCE_DIR}/cmake/GenerateManPage.cmake ${PROJECT_SOURCE_DIR}/cmake/creditwatch.1.in
    COMMENT "Generating the creditwatch(1) man page from --help"
    VERBATIM)
  add_custom_target(creditwatch_man ALL DEPENDS ${man_file})
  # The packaging test (scripts/package-check --no-build) needs the page built beforehand.
  if(TARGET integration_tests)
    add_dependencies(integration_tests creditwatch_man)
  endif()
  install(FILES ${man_file} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

set(CPACK_PACKAGE_NAME creditwatch)
set(CPACK_PACKAGE_VENDOR "creditwatch")
set(CPACK_PACKAGE_CONTACT "creditwatch maintainers <maintainers@users.noreply.b-seed-12d93622.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "keeps prepaid API accounts from running dry")
set(CPACK_PACKAGE_DESCRIPTION
    "creditwatch polls the balance or spend of prepaid API accounts (DeepSeek, OpenRouter,\n\
Moonshot, SiliconFlow, OpenAI and Anthropic cost APIs, any JSON endpoint...), stores\n\
every sample in SQLite, projects the runway and alerts Slack, PagerDuty, e-mail and\n\
other sinks before the money runs out. It runs as a hardened systemd service with a\n\
status page and Prometheus metrics.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Runtime libraries: computed by dpkg-shlibdeps (dpkg-dev; CPack also needs `file`) when
# both are there, else the Debian 12 names.
find_program(DPKG_SHLIBDEPS_PROGRAM dpkg-shlibdeps)
find_program(FILE_PROGRAM file)
if(DPKG_SHLIBDEPS_PROGRAM AND FILE_PROGRAM)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libcurl4, libyaml-cpp0.7, libsqlite3-0, libspdlog1.10, libfmt9, libssl3")
endif()
# tzdata: maintenance windows and the digest read time zones from /usr/share/zoneinfo.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, tzdata")
include(CPack)
