/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * No name service in the privileged helper. libnftables reads every uid (and gid) in a
 * command as a user (group) name first, through NSS, and only then as a number: that
 * would load NSS modules into this process, talk to nscd or systemd-userdbd (which the
 * seccomp policy rightly kills it for), and let a user named "1000" stand for someone
 * else. The helper only ever writes numeric ids, so it defines these lookups itself, as
 * "no such entry": the dynamic linker binds libnftables' calls to these definitions of
 * the executable, ahead of glibc's.
 *
 * Linked into patchpanel-helper only; the manager resolves user names at start as it
 * should.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>

struct passwd *getpwnam(const char *name) {
        (void) name;
        errno = 0;
        return NULL;
}

struct passwd *getpwuid(uid_t uid) {
        (void) uid;
        errno = 0;
        return NULL;
}

struct group *getgrnam(const char *name) {
        (void) name;
        errno = 0;
        return NULL;
}

struct group *getgrgid(gid_t gid) {
        (void) gid;
        errno = 0;
        return NULL;
}
