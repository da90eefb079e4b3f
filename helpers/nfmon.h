/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

/*
 * Changes to the nftables ruleset, from the kernel's nfnetlink event group: the helper
 * re-reads the foreign base chains when another table's table or chain changes (a policy
 * change is a chain change), and ignores the flood of element updates its own tables make.
 */

/* A non-blocking socket subscribed to the nftables events of the helper's netns. */
int nfmon_open(int *ret_fd);

/* Read every queued event: 1 if a table or chain not ours changed or events were lost,
 * 0 if not, a negative errno if the socket failed. */
int nfmon_drain(int fd);
