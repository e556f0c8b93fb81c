/* concerto-keygen: makes a partner's CURVE key pair.
 *
 * `concerto-keygen --out DIR NAME` writes DIR/NAME.key (the secret key,
 * mode 0600) and DIR/NAME.pub (the public key the operator adds to the
 * gateway's allow-list), each one line of Z85 text. Existing files are
 * never overwritten: a lost secret must be replaced deliberately. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <zmq.h>

#define MAX_NAME 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: concerto-keygen --out DIR NAME\n"
            "\n"
            "Makes a CURVE key pair for a partner system and writes it as Z85 text:\n"
            "  DIR/NAME.key  the secret key (mode 0600); keep it on the partner's side\n"
            "  DIR/NAME.pub  the public key; add it to the gateway's partner allow-list\n"
            "\n"
            "Options:\n"
            "  --out DIR   directory to write into (must exist)\n"
            "  --help      show this help\n"
            "\n"
            "NAME is 1 to %d letters, digits, '.', '_' or '-', not starting with '.'.\n"
            "Existing files are never overwritten.\n"
            "Exit status: 0 written, 1 failure, 2 usage error.\n",
            MAX_NAME);
}

static int valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > MAX_NAME || name[0] == '.')
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* Creates `path` exclusively and writes `text` and a newline. */
static int write_new(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        fprintf(stderr, "concerto-keygen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* open's mode is filtered by the umask; the secret must be 0600 and
     * the public key readable whatever the umask. */
    char line[64];
    int len = snprintf(line, sizeof(line), "%s\n", text);
    int rc = 0;
    if (fchmod(fd, mode) < 0 || write(fd, line, (size_t)len) != len || fsync(fd) < 0) {
        fprintf(stderr, "concerto-keygen: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (close(fd) < 0 && rc == 0) {
        fprintf(stderr, "concerto-keygen: %s: %s\n", path, strerror(errno));
        rc = -1;
    }
    if (rc < 0)
        unlink(path);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
        } else {
            fprintf(stderr, "concerto-keygen: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (dir == NULL || name == NULL) {
        usage(stderr);
        return 2;
    }
    if (!valid_name(name)) {
        fprintf(stderr, "concerto-keygen: invalid NAME '%s'\n", name);
        return 2;
    }

    char key_path[4096], pub_path[4096];
    if (snprintf(key_path, sizeof(key_path), "%s/%s.key", dir, name) >= (int)sizeof(key_path) ||
        snprintf(pub_path, sizeof(pub_path), "%s/%s.pub", dir, name) >= (int)sizeof(pub_path)) {
        fprintf(stderr, "concerto-keygen: path too long\n");
        return 2;
    }
    if (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0) {
        fprintf(stderr, "concerto-keygen: %s or %s already exists; not overwriting\n", key_path,
                pub_path);
        return 1;
    }

    char public_key[41], secret_key[41];
    if (zmq_curve_keypair(public_key, secret_key) != 0) {
        fprintf(stderr, "concerto-keygen: zmq_curve_keypair: %s\n", zmq_strerror(errno));
        return 1;
    }
    int rc = 1;
    if (write_new(key_path, secret_key, 0600) == 0) {
        if (write_new(pub_path, public_key, 0644) == 0) {
            printf("%s\n%s\n", key_path, pub_path);
            rc = 0;
        } else {
            unlink(key_path);
        }
    }
    /* The secret stays in memory no longer than needed. */
    sodium_memzero(secret_key, sizeof(secret_key));
    return rc;
}
