/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/* Capability sets and identity changes, through libcap-ng. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * privs_restrict_caps() - make exactly @caps the bounding, permitted and effective sets and
 * empty the inheritable and ambient sets, so that a root exec keeps only these.
 * Return: 0 or a negative errno.
 */
int privs_restrict_caps(const int *caps, size_t n);

/*
 * privs_keep_effective() - make exactly @caps the effective and permitted sets, and empty
 * the inheritable and ambient sets. The bounding set stays: cutting it needs CAP_SETPCAP,
 * which a service's own user does not hold, and it matters only across an exec.
 * Return: 0 or a negative errno (-EPERM if one of @caps is not permitted now).
 */
int privs_keep_effective(const int *caps, size_t n);

/*
 * privs_drop_to_user() - switch to @uid/@gid with no supplementary groups, keeping @keep in
 * the permitted, inheritable and bounding sets (so they can be passed on as ambient
 * capabilities later) and nothing in the effective set.
 * Return: 0 or a negative errno.
 */
int privs_drop_to_user(uid_t uid, gid_t gid, const int *keep, size_t n);

/* True if the calling thread has no effective capability. */
bool privs_effective_is_empty(void);

int privs_set_no_new_privs(void);

/*
 * privs_keep_only_inheritable() - empty the effective set and keep exactly @keep in the
 * permitted and inheritable sets (the ambient set keeps what of it is in both): for a
 * process that holds capabilities only to hand them on.
 * Return: 0 or a negative errno.
 */
int privs_keep_only_inheritable(const int *keep, size_t n);

/*
 * privs_drop_all() - empty the effective, permitted, inheritable and ambient sets, for good:
 * for a process that has opened what needed privilege.
 * Return: 0, or -EPERM if a capability remains.
 */
int privs_drop_all(void);

/* True if the calling thread has no capability in any of its sets (bounding aside). */
bool privs_all_empty(void);
