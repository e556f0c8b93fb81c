/* registry_fold: the search form of a name.
 *
 * Names are compared ignoring case, accents and punctuation:
 * "Côte-des-Neiges–Notre-Dame-de-Grâce" folds to
 * "cote des neiges notre dame de grace". The folded form keeps only letters
 * and digits, with single spaces between words, so it needs no escaping in
 * a LIKE pattern. */
#ifndef CONCERTO_REGISTRY_FOLD_H
#define CONCERTO_REGISTRY_FOLD_H

/* The folded form of the UTF-8 string `s` (compatibility decomposition,
 * marks stripped, case folded, anything but letters and digits turned into
 * word breaks). Returns a new string the caller frees, or NULL if `s` is
 * not valid UTF-8. */
char *registry_fold(const char *s);

#endif
