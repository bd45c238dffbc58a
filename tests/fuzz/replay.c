/*
 * replay.c - runs inputs through a fuzz target without libFuzzer, so the
 * seed corpus and every input that ever crashed run in every build (plain,
 * ASan, TSan) as regression tests: bin/http_replay FILE|DIR... (the request
 * framing, http_fuzz.c) and bin/resp_replay FILE|DIR... (loadgen's response
 * parser, resp_fuzz.c) are this file linked with each target.
 *
 * It gives LLVMFuzzerTestOneInput() each file, whole, as libFuzzer would. A
 * broken promise aborts inside the target; a clean run prints
 * "replayed N inputs" and exits 0. Exit 1 when a file cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX (1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;
static const char *name = "replay"; /* argv[0]'s last part, for messages */

static void replay_file(const char *path)
{
	static uint8_t data[REPLAY_MAX];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "%s: %s: %s\n", name, path, strerror(errno));
		exit(1);
	}
	n = fread(data, 1, sizeof data, f);
	fclose(f);
	/* a heap copy of exactly n bytes, so ASan sees a read past the input */
	uint8_t *copy = malloc(n ? n : 1);

	if (copy == NULL) {
		fprintf(stderr, "%s: out of memory\n", name);
		exit(1);
	}
	memcpy(copy, data, n);
	LLVMFuzzerTestOneInput(copy, n);
	free(copy);
	replayed++;
}

static void replay(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "%s: %s: %s\n", name, path, strerror(errno));
		exit(1);
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", name, path, strerror(errno));
		exit(1);
	}
	while ((e = readdir(d)) != NULL) {
		char child[4096];

		if (e->d_name[0] == '.') /* ., .., and hidden files such as .gitkeep */
			continue;
		snprintf(child, sizeof child, "%s/%s", path, e->d_name);
		replay(child);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	const char *slash = strrchr(argv[0], '/');
	name = slash ? slash + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", name);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		replay(argv[i]);
	printf("replayed %lu inputs\n", replayed);
	return 0;
}
