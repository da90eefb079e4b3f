/* SPDX-License-Identifier: BSD-3-Clause */
#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include "macro.h"
#include "privs.h"

int privs_restrict_caps(const int *caps, size_t n) {
        capng_clear(CAPNG_SELECT_ALL);
        for (size_t i = 0; i < n; i++)
                if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
                                 (unsigned) caps[i]) < 0)
                        return -EINVAL;
        if (capng_apply(CAPNG_SELECT_ALL) < 0)
                return -EPERM;
        return 0;
}

int privs_keep_effective(const int *caps, size_t n) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return -errno;
        capng_clear(CAPNG_SELECT_CAPS);
        for (size_t i = 0; i < n; i++)
                if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned) caps[i]) < 0)
                        return -EINVAL;
        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                return -EPERM;
        return 0;
}

int privs_drop_to_user(uid_t uid, gid_t gid, const int *keep, size_t n) {
        capng_clear(CAPNG_SELECT_BOTH);
        for (size_t i = 0; i < n; i++)
                if (capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_INHERITABLE | CAPNG_BOUNDING_SET,
                                 (unsigned) keep[i]) < 0)
                        return -EINVAL;
        /* The bounding set first, while CAP_SETPCAP is still effective. */
        if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
                return -EPERM;
        if (capng_change_id((int) uid, (int) gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_AMBIENT) < 0)
                return -EPERM;
        if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
                return -EPERM;
        if (!privs_effective_is_empty())
                return -EPERM;
        return 0;
}

bool privs_effective_is_empty(void) {
        capng_get_caps_process();
        for (unsigned c = 0; c <= CAP_LAST_CAP; c++)
                if (capng_have_capability(CAPNG_EFFECTIVE, c))
                        return false;
        return true;
}

int privs_set_no_new_privs(void) {
        return RET_NERRNO(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
}

int privs_keep_only_inheritable(const int *keep, size_t n) {
        capng_clear(CAPNG_SELECT_CAPS);
        for (size_t i = 0; i < n; i++)
                if (capng_update(CAPNG_ADD, CAPNG_PERMITTED | CAPNG_INHERITABLE, (unsigned) keep[i]) < 0)
                        return -EINVAL;
        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                return -EPERM;
        return privs_effective_is_empty() ? 0 : -EPERM;
}

int privs_drop_all(void) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return -errno;
        capng_clear(CAPNG_SELECT_CAPS);
        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                return -EPERM;
        return privs_all_empty() ? 0 : -EPERM;
}

bool privs_all_empty(void) {
        capng_get_caps_process();
        for (unsigned c = 0; c <= CAP_LAST_CAP; c++) {
                if (capng_have_capability(CAPNG_EFFECTIVE, c) ||
                    capng_have_capability(CAPNG_PERMITTED, c) ||
                    capng_have_capability(CAPNG_INHERITABLE, c))
                        return false;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) > 0)
                        return false;
        }
        return true;
}
