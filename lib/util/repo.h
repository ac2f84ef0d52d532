/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Repository names: the first segment of a resource path ("repo/type/tag") and what a
 * writer's admin token lists in its repos claim. One limit for every place that takes
 * one (the store, admin tokens at issue and at verification, veriteed's resource routes
 * and ?repo=, the CLI): a longer name is refused, never cut, so that a permission check
 * always compares whole names (docs/admin.md).
 */
#ifndef VT_UTIL_REPO_H
#define VT_UTIL_REPO_H

#define VT_REPO_NAME_MAX 63 /* bytes of a repository name, without a NUL */

#endif
