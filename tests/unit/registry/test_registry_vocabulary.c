/* registry_vocabulary: the shipped lists load; a folder whose lists break
 * a rule is refused with the file, the line and the reason, and the lists
 * in force stay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shape.h"
#include "registry_vocabulary.h"

static char dir[] = "/tmp/vocabulary-XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char networks[] = "code,kind,label_fr,label_en\ncommunity,network,Communautaire,\n";

static void test_the_shipped_lists_load(void **state)
{
    (void)state;
    char err[300];
    assert_int_equal(registry_vocabulary_load(REGISTRY_VOCABULARY_DEFAULT, err, sizeof err), 0);
    assert_true(shape_word(registry_sector_codes(), "health_social_services"));
    assert_true(shape_word(registry_sector_codes(), "food_security"));
    assert_true(shape_word(registry_sector_codes(), "employment"));
    assert_true(shape_word(registry_network_codes(), "elected_officials"));
    assert_true(shape_word(registry_network_codes(), "sectoral_concertation"));
    assert_false(shape_word(registry_network_codes(), "health"));
}

static void refused(const char *sectors, const char *says)
{
    char err[300];
    write_file("sectors.csv", sectors);
    write_file("networks.csv", networks);
    assert_int_equal(registry_vocabulary_load(dir, err, sizeof err), -1);
    if (!strstr(err, says))
        fail_msg("expected '%s' in '%s'", says, err);
    /* The lists in force stay. */
    assert_true(shape_word(registry_sector_codes(), "health_social_services"));
}

static void test_bad_lists_are_refused_with_their_line(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    refused("code,kind,label_fr\nhousing,field,Habitation\nHousing,field,X\n",
            "sectors.csv:3: Housing");
    refused("code,kind,label_fr\nhousing,field,Habitation\nhousing,field,X\n",
            "sectors.csv:3: housing");
    refused("code,kind,label_fr\nhousing,field,\n", "sectors.csv:2: housing");
    refused("code,kind,label_fr\n", "lists no code");
    refused("kind,label_fr\nfield,Habitation\n", "needs the columns code and label_fr");
    char path[256];
    snprintf(path, sizeof path, "%s/networks.csv", dir);
    write_file("sectors.csv", "code,label_fr\nhousing,Habitation\n");
    unlink(path);
    char err[300];
    assert_int_equal(registry_vocabulary_load(dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot open"));
    write_file("networks.csv", networks);
    assert_int_equal(registry_vocabulary_load(dir, err, sizeof err), 0);
    assert_true(shape_word(registry_sector_codes(), "housing"));
    assert_false(shape_word(registry_sector_codes(), "health_social_services"));
    snprintf(path, sizeof path, "%s/sectors.csv", dir);
    unlink(path);
    unlink(strcat(strcpy(path, dir), "/networks.csv"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_shipped_lists_load),
        cmocka_unit_test(test_bad_lists_are_refused_with_their_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
