/* SPDX-License-Identifier: Apache-2.0 */
/* veriteed's configuration lives in the library (lib/config/config.h), shared with the CLI. */
#ifndef VTD_SERVER_CONFIG_H
#define VTD_SERVER_CONFIG_H

#include "config/config.h"

#endif
