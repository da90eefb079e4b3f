/* SPDX-License-Identifier: BSD-3-Clause */
#pragma once

#include "manager.h"

/* Keep the BYPASS_VPN rules in step with the registry's physical default. */
int vpn_setup(Manager *m);
