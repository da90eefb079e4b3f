/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * common/options.h: the configuration file read through a binary's option table. Texts are
 * parsed with options_parse_config() against a small table with one option of each kind;
 * every malformed line is its own case of one table (text, the line blamed, the reason);
 * then options_parse() with real files: the command line wins, --config names another file
 * or none, and a file someone else may have written is refused.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "options.h"

typedef struct Values {
        const char *name;
        int64_t count;
        bool verbose;
        bool firewall;
        const char *items[4];
        size_t n_items;
} Values;

static int parse_item(const Option *o, const char *arg, ErrBuf *err) {
        Values *v = o->data;

        if (v->n_items >= ELEMENTSOF(v->items))
                return errbuf_set(err, -E2BIG, "too many");
        v->items[v->n_items++] = arg;
        return 0;
}

/* The table, pointing into @v. */
#define OPTIONS(v)                                                                              \
        {                                                                                       \
                { "name", 'n', "NAME", "a name", option_parse_string, &(v)->name },             \
                { "count", 0, "N", "a number", option_parse_int, &(v)->count, 1, 10 },          \
                { "verbose", 'v', NULL, "a switch", option_parse_flag, &(v)->verbose },         \
                { "firewall", 0, "on|off", "on or off", option_parse_on_off, &(v)->firewall },  \
                { "item", 0, "ITEM", "repeatable", parse_item, (v) },                           \
        }

/* Values point into the texts parsed: kept until the end of the group. */
static char *texts[64];
static size_t n_texts;

static int parse_text(const char *text, size_t size, Values *v, unsigned *ret_line, ErrBuf *err) {
        const Option options[] = OPTIONS(v);
        const OptionsSpec spec = { .usage = "t", .options = options,
                                   .n_options = ELEMENTSOF(options) };
        char *copy = malloc(size + 1);

        assert_non_null(copy);
        assert_true(n_texts < ELEMENTSOF(texts));
        memcpy(copy, text, size);
        texts[n_texts++] = copy;
        return options_parse_config(&spec, copy, size, ret_line, err);
}

static void test_config_every_kind(void **state) {
        static const char text[] =
                "# patchpaneld.conf\n"
                "\n"
                "   ; another comment\n"
                "name = first\r\n"
                "\tcount=7   \n"
                "verbose\n"
                "firewall = on\n"
                "item = a b # not a comment\n"
                "item=c";
        Values v = { .count = 1 };
        unsigned line = 0;
        ErrBuf err = {};

        (void) state;
        assert_int_equal(parse_text(text, sizeof text - 1, &v, &line, &err), 0);
        assert_string_equal(v.name, "first");
        assert_int_equal(v.count, 7);
        assert_true(v.verbose);
        assert_true(v.firewall);
        assert_int_equal(v.n_items, 2);
        assert_string_equal(v.items[0], "a b # not a comment");
        assert_string_equal(v.items[1], "c");
}

static void test_config_later_lines_win(void **state) {
        static const char text[] = "count = 2\nfirewall = on\ncount = 3\nfirewall = off\n";
        Values v = {};
        unsigned line = 0;
        ErrBuf err = {};

        (void) state;
        assert_int_equal(parse_text(text, sizeof text - 1, &v, &line, &err), 0);
        assert_int_equal(v.count, 3);
        assert_false(v.firewall);
}

static void test_config_switch_values(void **state) {
        static const struct {
                const char *text;
                bool verbose;
        } cases[] = {
                { "verbose\n", true },
                { "verbose = yes\n", true },
                { "verbose = true\n", true },
                { "verbose = on\n", true },
                { "verbose = no\n", false },
                { "verbose = false\n", false },
                { "verbose = off\n", false },
                { "", false },
                { "\n\n", false },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Values v = {};
                unsigned line = 0;
                ErrBuf err = {};

                assert_int_equal(parse_text(cases[i].text, strlen(cases[i].text), &v, &line,
                                            &err), 0);
                assert_int_equal(v.verbose, cases[i].verbose);
        }
}

/* One bad line each: the line blamed and the reason given. */
static void test_config_malformed(void **state) {
        static char long_line[OPTIONS_CONFIG_LINE_MAX + 2];
        static const struct {
                const char *text;
                size_t size; /* 0: strlen(text) */
                unsigned line;
                const char *reason;
        } cases[] = {
                { "name\n", 0, 1, "name needs a value: name = NAME" },
                { "name =\n", 0, 1, "invalid name = : must not be empty" },
                { "name = \t \n", 0, 1, "invalid name = : must not be empty" },
                { "bogus = 1\n", 0, 1, "unknown option \"bogus\"" },
                { "help\n", 0, 1, "unknown option \"help\"" },
                { "config = /etc/other.conf\n", 0, 1, "unknown option \"config\"" },
                { "--name = x\n", 0, 1, "unknown option \"--name\"" },
                { "name first\n", 0, 1, "expected NAME = VALUE" },
                { "= first\n", 0, 1, "expected NAME = VALUE, NAME an option's long name" },
                { "Name = first\n", 0, 1, "expected NAME = VALUE, NAME an option's long name" },
                { "na\033me = x\n", 0, 1, "expected NAME = VALUE, NAME an option's long name" },
                { "count = 11\n", 0, 1, "invalid count = 11: a whole number from 1 to 10" },
                { "count = 0x3\n", 0, 1, "invalid count = 0x3: a whole number from 1 to 10" },
                { "count = 3 4\n", 0, 1, "invalid count = 3 4: a whole number from 1 to 10" },
                { "firewall = maybe\n", 0, 1, "invalid firewall = maybe: on or off" },
                { "verbose = 2\n", 0, 1, "verbose takes no value, or yes or no" },
                { "# fine\n\ncount = 5\ncount = x\n", 0, 4,
                  "invalid count = x: a whole number from 1 to 10" },
                { "count = 5\nname = a\0b\n", 21, 2, "a NUL byte in the line" },
                { "\0", 1, 1, "a NUL byte in the line" },
                { "item = 1\nitem = 2\nitem = 3\nitem = 4\nitem = 5\n", 0, 5,
                  "invalid item = 5: too many" },
                { long_line, sizeof long_line - 1, 1, "line longer than 4096 bytes" },
        };

        (void) state;
        /* A comment one byte too long. */
        memset(long_line, '#', sizeof long_line - 1);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t size = cases[i].size ?: strlen(cases[i].text);
                Values v = {};
                unsigned line = 0;
                ErrBuf err = {};

                print_message("case %zu\n", i);
                assert_int_equal(parse_text(cases[i].text, size, &v, &line, &err), -EINVAL);
                assert_int_equal(line, cases[i].line);
                assert_string_equal(err.msg, cases[i].reason);
        }
}

static void test_config_longest_line(void **state) {
        _cleanup_free_ char *text = malloc(OPTIONS_CONFIG_LINE_MAX + 1);
        Values v = {};
        unsigned line = 0;
        ErrBuf err = {};

        (void) state;
        assert_non_null(text);
        memset(text, '#', OPTIONS_CONFIG_LINE_MAX);
        text[OPTIONS_CONFIG_LINE_MAX] = '\n';
        assert_int_equal(parse_text(text, OPTIONS_CONFIG_LINE_MAX + 1, &v, &line, &err), 0);
}

/* ---- files and the command line ------------------------------------------------------ */

static char tmpdir[] = "/tmp/test-options.XXXXXX";

static int setup_dir(void **state) {
        (void) state;
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state) {
        char cmd[64];

        (void) state;
        for (size_t i = 0; i < n_texts; i++)
                free(texts[i]);
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, mode_t mode) {
        static char path[128];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", tmpdir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
        return path;
}

/* options_parse() of @args with @config_file as the spec's default; stderr kept in
 * @errors (may be NULL). */
static int parse_args(const char *config_file, Values *v, char *errors, size_t errors_size,
                      const char *const *args) {
        const Option options[] = OPTIONS(v);
        const OptionsSpec spec = { .usage = "t", .options = options,
                                   .n_options = ELEMENTSOF(options),
                                   .config_file = config_file };
        char *argv[16];
        int argc = 0, first, r, saved, capture;
        ssize_t n;

        argv[argc++] = (char *) "t";
        for (; *args; args++)
                argv[argc++] = (char *) *args;
        argv[argc] = NULL;

        capture = memfd_create("stderr", MFD_CLOEXEC);
        assert_true(capture >= 0);
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        assert_int_equal(dup2(capture, STDERR_FILENO), STDERR_FILENO);
        r = options_parse(&spec, argc, argv, &first);
        fflush(stderr);
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
        if (errors) {
                n = pread(capture, errors, errors_size - 1, 0);
                assert_true(n >= 0);
                errors[n] = '\0';
        }
        close(capture);
        if (r >= 0)
                assert_int_equal(first, argc);
        return r;
}

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void test_parse_command_line_wins(void **state) {
        const char *path = write_file("wins.conf", "count = 2\nname = from-file\nitem = file\n",
                                      0644);
        Values v = {};

        (void) state;
        assert_int_equal(parse_args(path, &v, NULL, 0, ARGS("--count=5", "--item=argv")), 0);
        assert_int_equal(v.count, 5);
        assert_string_equal(v.name, "from-file");
        /* A repeatable option: the file's first, the command line's after them. */
        assert_int_equal(v.n_items, 2);
        assert_string_equal(v.items[0], "file");
        assert_string_equal(v.items[1], "argv");
}

static void test_parse_config_option(void **state) {
        char default_path[128], other_path[128];
        Values v = {};

        (void) state;
        snprintf(default_path, sizeof default_path, "%s",
                 write_file("default.conf", "name = default\ncount = 9\n", 0644));
        snprintf(other_path, sizeof other_path, "%s",
                 write_file("other.conf", "name = other\n", 0600));
        /* --config anywhere on the command line; the default file is then not read. */
        assert_int_equal(parse_args(default_path, &v, NULL, 0,
                                    ARGS("--count=3", "--config", other_path)), 0);
        assert_string_equal(v.name, "other");
        assert_int_equal(v.count, 3);
        v = (Values) {};
        assert_int_equal(parse_args(default_path, &v, NULL, 0, ARGS("-n", "argv")), 0);
        assert_string_equal(v.name, "argv");
        assert_int_equal(v.count, 9);
}

static void test_parse_missing_files(void **state) {
        char missing[128], errors[512];
        Values v = {};

        (void) state;
        snprintf(missing, sizeof missing, "%s/missing.conf", tmpdir);
        /* The default missing is fine; one named on the command line is not. */
        assert_int_equal(parse_args(missing, &v, NULL, 0, ARGS("--count=4")), 0);
        assert_int_equal(v.count, 4);
        assert_int_equal(parse_args("/etc/hostname", &v, errors, sizeof errors,
                                    ARGS("--config", missing)), -ENOENT);
        assert_non_null(strstr(errors, "missing.conf: no such file"));
}

static void test_parse_empty_config_reads_none(void **state) {
        const char *bad = write_file("bad-default.conf", "count = 99\n", 0644);
        Values v = {};

        (void) state;
        assert_int_equal(parse_args(bad, &v, NULL, 0, ARGS("--config=", "--count=1")), 0);
        assert_int_equal(v.count, 1);
}

static void test_parse_bad_line_names_file_and_line(void **state) {
        const char *path = write_file("bad.conf", "# ok\nname = x\ncount = 99\n", 0644);
        char expected[256], errors[512];
        Values v = {};

        (void) state;
        /* Refused even though the command line sets the same option. */
        assert_int_equal(parse_args(path, &v, errors, sizeof errors, ARGS("--count=2")), -EINVAL);
        snprintf(expected, sizeof expected,
                 "%s:3: invalid count = 99: a whole number from 1 to 10\n", path);
        assert_string_equal(errors, expected);
}

static void test_parse_bad_argument_after_file(void **state) {
        const char *path = write_file("fine.conf", "count = 2\n", 0644);
        char errors[512];
        Values v = {};

        (void) state;
        assert_int_equal(parse_args(path, &v, errors, sizeof errors, ARGS("--firewall=maybe")),
                         -EINVAL);
        assert_string_equal(errors, "Invalid --firewall=maybe: on or off\n");
}

static void test_read_refuses_writable_by_others(void **state) {
        static const mode_t modes[] = { 0666, 0664, 0646, 0622 };
        _cleanup_free_ char *text = NULL;
        size_t size;
        ErrBuf err = {};

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                const char *path = write_file("open.conf", "count = 2\n", modes[i]);

                assert_int_equal(options_read_config(path, &text, &size, &err), -EPERM);
                assert_non_null(strstr(err.msg, "writable by no one else"));
        }
}

static void test_read_refuses_other_owner(void **state) {
        const char *path = write_file("owned.conf", "count = 2\n", 0644);
        _cleanup_free_ char *text = NULL;
        size_t size;
        ErrBuf err = {};

        (void) state;
        if (geteuid() != 0)
                skip();
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(options_read_config(path, &text, &size, &err), -EPERM);
        assert_non_null(strstr(err.msg, "owned by uid 65534 with mode 0644"));
}

static void test_read_refuses_non_files(void **state) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        ErrBuf err = {};

        (void) state;
        assert_int_equal(options_read_config(tmpdir, &text, &size, &err), -EINVAL);
        assert_string_equal(err.msg, "not a regular file");
        assert_int_equal(options_read_config("/dev/null", &text, &size, &err), -EINVAL);
}

static void test_read_size_limit(void **state) {
        char path[128];
        _cleanup_free_ char *text = NULL;
        size_t size;
        ErrBuf err = {};
        int fd;

        (void) state;
        snprintf(path, sizeof path, "%s/big.conf", tmpdir);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, OPTIONS_CONFIG_SIZE_MAX), 0);
        assert_int_equal(options_read_config(path, &text, &size, &err), 0);
        assert_int_equal(size, OPTIONS_CONFIG_SIZE_MAX);
        free(TAKE_PTR(text));
        assert_int_equal(ftruncate(fd, OPTIONS_CONFIG_SIZE_MAX + 1), 0);
        close(fd);
        assert_int_equal(options_read_config(path, &text, &size, &err), -EFBIG);
}

static void test_usage_lists_config(void **state) {
        Values v = {};
        const Option options[] = OPTIONS(&v);
        const OptionsSpec spec = { .usage = "t", .options = options,
                                   .n_options = ELEMENTSOF(options),
                                   .config_file = "/etc/t.conf" };
        char buf[4096] = {};
        FILE *f = fmemopen(buf, sizeof buf - 1, "w");

        (void) state;
        assert_non_null(f);
        options_usage(&spec, f);
        fclose(f);
        assert_non_null(strstr(buf, "  --config=PATH           read options from PATH first"));
        assert_non_null(strstr(buf, "/etc/t.conf)"));
        assert_non_null(strstr(buf, "  -n, --name=NAME         a name\n"));
        assert_non_null(strstr(buf, "  -v, --verbose           a switch\n"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_every_kind),
                cmocka_unit_test(test_config_later_lines_win),
                cmocka_unit_test(test_config_switch_values),
                cmocka_unit_test(test_config_malformed),
                cmocka_unit_test(test_config_longest_line),
                cmocka_unit_test(test_parse_command_line_wins),
                cmocka_unit_test(test_parse_config_option),
                cmocka_unit_test(test_parse_missing_files),
                cmocka_unit_test(test_parse_empty_config_reads_none),
                cmocka_unit_test(test_parse_bad_line_names_file_and_line),
                cmocka_unit_test(test_parse_bad_argument_after_file),
                cmocka_unit_test(test_read_refuses_writable_by_others),
                cmocka_unit_test(test_read_refuses_other_owner),
                cmocka_unit_test(test_read_refuses_non_files),
                cmocka_unit_test(test_read_size_limit),
                cmocka_unit_test(test_usage_lists_config),
        };

        return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
