# Debian packages from this tree: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (scripts/package does it all) makes
#
#   patchpanel                the daemons, patchpanel-cli, unit, D-Bus policy, sysusers.d,
#                             /etc/patchpanel/patchpaneld.conf (a conffile), manual pages
#   libpatchpanel-client0     libpatchpanel-client.so.0 (shlibs, an ldconfig trigger)
#   libpatchpanel-client-dev  its header, the .so link and patchpanel-client.pc
#
# from the install() rules' components (patchpanel, client, dev): CPack stages each with
# `cmake --install` into a DESTDIR, so the packages hold exactly what `cmake --install`
# lays out (the test package.deb compares the two). Depends come from the libraries the
# binaries link (dpkg-shlibdeps), plus the system bus and systemd-sysusers the maintainer
# scripts and the service need, and libpatchpanel-client0 at this very version.
set(PP_PACKAGE_MAINTAINER "patchpanel maintainers <maintainers@users.noreply.h-seed-112ab90a.example>"
    CACHE STRING "The Maintainer field of the Debian packages")
set(PP_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})

# Each package's /usr/share/doc/<package>/copyright and changelog.gz, which Debian requires.
configure_file(${PP_PACKAGING_DIR}/changelog.in ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
  COMMAND sh -c "gzip -9nc \"$0\" > \"$0.gz\"" ${CMAKE_BINARY_DIR}/packaging/changelog
  DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog
  VERBATIM)
add_custom_target(debian-changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
foreach(c patchpanel:patchpanel client:libpatchpanel-client0 dev:libpatchpanel-client-dev)
  string(REPLACE ":" ";" c ${c})
  list(GET c 0 component)
  list(GET c 1 package)
  install(FILES ${PP_PACKAGING_DIR}/copyright ${CMAKE_BINARY_DIR}/packaging/changelog.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${package} COMPONENT ${component})
endforeach()

# dpkg's list of conffiles, from where the configuration file is installed.
file(WRITE ${CMAKE_BINARY_DIR}/packaging/patchpanel/conffiles "${PP_CONFIG_FILE}\n")
foreach(script postinst prerm postrm)
  configure_file(${PP_PACKAGING_DIR}/patchpanel/${script}
                 ${CMAKE_BINARY_DIR}/packaging/patchpanel/${script} COPYONLY)
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME patchpanel)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${PP_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/deb)
# Install as `cmake --install` does, absolute destinations (/etc, /usr/lib/systemd)
# included, into the staging DESTDIR.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL patchpanel client dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# patchpanel-cli's libpatchpanel-client.so.0 is found in the build tree; its package
# comes from the component dependency below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/client)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_PATCHPANEL_PACKAGE_NAME patchpanel)
set(CPACK_DEBIAN_PATCHPANEL_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PATCHPANEL_PACKAGE_DEPENDS
    "default-dbus-system-bus | dbus-system-bus, systemd-sysusers")
set(CPACK_COMPONENT_PATCHPANEL_DEPENDS client)
set(CPACK_DEBIAN_PATCHPANEL_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/patchpanel/conffiles
    ${CMAKE_BINARY_DIR}/packaging/patchpanel/postinst
    ${CMAKE_BINARY_DIR}/packaging/patchpanel/prerm
    ${CMAKE_BINARY_DIR}/packaging/patchpanel/postrm)
set(CPACK_COMPONENT_PATCHPANEL_DESCRIPTION
"networking for the guests of this host (org.chromium.PatchPanel)
patchpaneld gives containers, virtual machines and network namespaces their
network: links, addresses from fixed pools, masquerading, forwarding, routing
through the host's uplinks, port rules and traffic counters, over the D-Bus API
of ChromiumOS's patchpanel (org.chromium.PatchPanel), with which it is
wire-compatible.
.
It runs as an unprivileged user, with a small root helper holding four
capabilities, each process under its own seccomp policy, in a hardened
systemd unit. This package also holds patchpanel-cli.")

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME libpatchpanel-client0)
set(CPACK_DEBIAN_CLIENT_PACKAGE_SECTION libs)
# dpkg runs ldconfig once at the end for the trigger. CPack adds a postinst and a postrm
# calling ldconfig as well (lintian: maintscript-calls-ldconfig), for any package with a
# library in /usr/lib; scripts of our own doing nothing instead would be empty
# (maintainer-script-empty), and the extra ldconfig does no harm.
set(CPACK_DEBIAN_CLIENT_PACKAGE_CONTROL_EXTRA ${PP_PACKAGING_DIR}/client/triggers)
set(CPACK_COMPONENT_CLIENT_DESCRIPTION
"C client library of patchpanel
libpatchpanel-client calls patchpaneld's D-Bus API (org.chromium.PatchPanel)
from C: connecting network namespaces, starting and stopping the network of
VMs and containers, port rules, traffic counters and VPN routing of sockets.
.
This package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libpatchpanel-client-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DEPENDS client)
set(CPACK_COMPONENT_DEV_DESCRIPTION
"C client library of patchpanel (development files)
libpatchpanel-client calls patchpaneld's D-Bus API (org.chromium.PatchPanel)
from C: connecting network namespaces, starting and stopping the network of
VMs and containers, port rules, traffic counters and VPN routing of sockets.
.
This package holds the header <patchpanel/patchpanel-client.h> and
patchpanel-client.pc for pkg-config.")

include(CPack)
