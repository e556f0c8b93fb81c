/* registry_cli: `concerto-registry import DIR`, which sends the CSV files
 * of DIR as one ImportRequest to the running daemon's ROUTER and prints
 * the outcome. */
#ifndef CONCERTO_REGISTRY_CLI_H
#define CONCERTO_REGISTRY_CLI_H

/* argv[0] is "import". Returns the exit code: 0 imported, 1 refused,
 * 2 usage, connection or timeout error. */
int registry_cli_import(int argc, char **argv);

#endif
