/* SPDX-License-Identifier: Apache-2.0 */
/* YAML -> a JSON tree (mappings, sequences, scalars as strings): the configuration's first
 * step. Typing happens when the table is applied (config.c). */
#include "config.h"

#include <string.h>

#include <yaml.h>

#include "util/dlib.h"
#include "util/json.h"

#define MAX_DEPTH 32

/* libyaml is held only while a configuration is read (util/dlib.h): a server reads its
 * configuration once, at start, and then does not keep libyaml's pages. */
VT_DLSYM_DECL(yaml_event_delete);
VT_DLSYM_DECL(yaml_parser_delete);
VT_DLSYM_DECL(yaml_parser_initialize);
VT_DLSYM_DECL(yaml_parser_parse);
VT_DLSYM_DECL(yaml_parser_set_input_string);

static const struct vt_dlsym yaml_syms[] = {
        VT_DLSYM(yaml_event_delete),
        VT_DLSYM(yaml_parser_delete),
        VT_DLSYM(yaml_parser_initialize),
        VT_DLSYM(yaml_parser_parse),
        VT_DLSYM(yaml_parser_set_input_string),
};

static struct vt_dlib libyaml = VT_DLIB(VT_SONAME_YAML, yaml_syms, NULL);

static int parse_error(yaml_parser_t *p, struct vt_diag *d)
{
        return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: %s", p->problem_mark.line + 1,
                           p->problem ? p->problem : "syntax error");
}

static int yaml_node(yaml_parser_t *p, yaml_event_t *first, int depth, json_t **ret,
                     struct vt_diag *d);

static int yaml_sequence(yaml_parser_t *p, int depth, json_t **ret, struct vt_diag *d)
{
        json_auto_t *a = json_array();
        yaml_event_t ev;
        if (!a)
                return VT_E_NOMEM;
        for (;;) {
                if (!sym_yaml_parser_parse(p, &ev))
                        return parse_error(p, d);
                if (ev.type == YAML_SEQUENCE_END_EVENT) {
                        sym_yaml_event_delete(&ev);
                        break;
                }
                json_t *item = NULL;
                int e = yaml_node(p, &ev, depth + 1, &item, d);
                sym_yaml_event_delete(&ev);
                if (e < 0)
                        return e;
                json_array_append_new(a, item);
        }
        *ret = json_incref(a);
        return 0;
}

/* One key of a mapping into key[] (a scalar, shorter than 128 bytes, not seen before). */
static int yaml_key(json_t *o, yaml_event_t *ev, char key[static 128], struct vt_diag *d)
{
        size_t kl, line = ev->start_mark.line + 1;
        if (ev->type != YAML_SCALAR_EVENT)
                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: keys must be scalars", line);
        kl = ev->data.scalar.length;
        if (kl >= 128)
                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: key too long", line);
        memcpy(key, ev->data.scalar.value, kl);
        key[kl] = 0;
        if (json_object_get(o, key))
                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: duplicate key \"%s\"", line,
                                   key);
        return 0;
}

static int yaml_mapping(yaml_parser_t *p, int depth, json_t **ret, struct vt_diag *d)
{
        json_auto_t *o = json_object();
        yaml_event_t ev;
        char key[128];
        int e;
        if (!o)
                return VT_E_NOMEM;
        for (;;) {
                if (!sym_yaml_parser_parse(p, &ev))
                        return parse_error(p, d);
                if (ev.type == YAML_MAPPING_END_EVENT) {
                        sym_yaml_event_delete(&ev);
                        break;
                }
                e = yaml_key(o, &ev, key, d);
                sym_yaml_event_delete(&ev);
                if (e < 0)
                        return e;
                if (!sym_yaml_parser_parse(p, &ev))
                        return parse_error(p, d);
                json_t *val = NULL;
                e = yaml_node(p, &ev, depth + 1, &val, d);
                sym_yaml_event_delete(&ev);
                if (e < 0)
                        return e;
                json_object_set_new(o, key, val);
        }
        *ret = json_incref(o);
        return 0;
}

/* Builds JSON from libyaml events, starting at *first. */
static int yaml_node(yaml_parser_t *p, yaml_event_t *first, int depth, json_t **ret,
                     struct vt_diag *d)
{
        if (depth > MAX_DEPTH)
                return vt_diag_set(d, VT_E_LIMIT, "config: nesting deeper than %d", MAX_DEPTH);
        switch (first->type) {
        case YAML_SCALAR_EVENT:
                *ret = json_stringn((const char *)first->data.scalar.value,
                                    first->data.scalar.length);
                return *ret ? 0 : VT_E_NOMEM;
        case YAML_ALIAS_EVENT:
                return vt_diag_set(d, VT_E_FORMAT,
                                   "config: line %zu: YAML aliases are not supported",
                                   first->start_mark.line + 1);
        case YAML_SEQUENCE_START_EVENT:
                return yaml_sequence(p, depth, ret, d);
        case YAML_MAPPING_START_EVENT:
                return yaml_mapping(p, depth, ret, d);
        default:
                return vt_diag_set(d, VT_E_FORMAT, "config: line %zu: unexpected YAML event",
                                   first->start_mark.line + 1);
        }
}

static int to_json(const char *text, size_t len, void **ret_json, struct vt_diag *d);

int vt_config_yaml_to_json(const char *text, size_t len, void **ret_json, struct vt_diag *d)
{
        if (len > VT_CONFIG_MAX_BYTES)
                return vt_diag_set(d, VT_E_LIMIT, "config: larger than %u bytes",
                                   VT_CONFIG_MAX_BYTES);
        int e = vt_dlib_hold(&libyaml, d);
        if (e < 0)
                return e;
        e = to_json(text, len, ret_json, d);
        vt_dlib_release(&libyaml);
        return e;
}

static int to_json(const char *text, size_t len, void **ret_json, struct vt_diag *d)
{
        yaml_parser_t p;
        yaml_event_t ev;
        json_t *root = NULL;
        int e = 0;
        if (!sym_yaml_parser_initialize(&p))
                return VT_E_NOMEM;
        sym_yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
        for (;;) {
                if (!sym_yaml_parser_parse(&p, &ev)) {
                        e = parse_error(&p, d);
                        break;
                }
                yaml_event_type_t t = ev.type;
                if (t == YAML_STREAM_END_EVENT) {
                        sym_yaml_event_delete(&ev);
                        break;
                }
                if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
                    t == YAML_SCALAR_EVENT) {
                        if (root) {
                                sym_yaml_event_delete(&ev);
                                e = vt_diag_set(d, VT_E_FORMAT,
                                                "config: more than one YAML document");
                                break;
                        }
                        e = yaml_node(&p, &ev, 0, &root, d);
                }
                sym_yaml_event_delete(&ev);
                if (e < 0)
                        break;
        }
        sym_yaml_parser_delete(&p);
        if (e < 0) {
                json_decref(root);
                return e;
        }
        *ret_json = root ? root : json_object();
        return 0;
}
