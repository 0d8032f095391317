/*
 * trace_torn.c — make a shared trace with a record torn by a killed writer,
 * for tests/suites/trace_torn.sh (what `kharon trace check|dump|export`
 * say about it).
 *
 *   trace_torn FILE end      survivor, torn record of a killed victim,
 *                            survivor again, END: reads clean
 *   trace_torn FILE noend    the same without END (the survivor's run failed)
 *   trace_torn FILE tail     survivor leaves first; the file ends in the
 *                            victim's torn record
 *
 * The victim is a real forked writer process killed with SIGKILL while it
 * is in the middle of a record: its write is split in two
 * (trace_writer_split_next) and the kill lands between the halves. Prints
 * the number of events the survivor wrote. Exit 0, or 1 with a message.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/diag.h"
#include "trace/trace_file.h"

static void
die(const char *what)
{
	fprintf(stderr, "trace_torn: %s: %s\n", what, diag_msg());
	exit(1);
}

static int
add(struct trace_writer *w, const char *cord, uint64_t seq, const char *s)
{
	struct trace_field f = {.key = "s", .s = s};
	struct trace_event e = {.seq = seq, .t = seq, .cord = cord,
				.ev = "push", .fields = &f, .n_fields = 1};
	if (trace_writer_add(w, &e) != 0)
		return -1;
	return trace_writer_flush(w);
}

static void
between(void *arg)
{
	int fd = *(int *)arg;
	char c = 1;
	if (write(fd, &c, 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

/*
 * A victim joins, writes a record, and is killed inside its second. With
 * `leave` the survivor closes (without END) while the victim sits between
 * the halves, so the torn record is the last thing in the file.
 */
static void
victim(const char *path, struct trace_writer *leave)
{
	int ready[2];
	if (pipe(ready) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(ready[0]);
		struct trace_writer *w = trace_writer_new(path, NULL);
		if (w == NULL || add(w, "victim", 1, "first") != 0)
			_exit(2);
		char big[8192];
		memset(big, 'v', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		trace_writer_split_next(w, between, &ready[1]);
		add(w, "victim", 2, big);
		_exit(4);
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		die("the victim did not reach its torn write");
	if (leave != NULL && trace_writer_close(leave, false) != 0)
		die("close");
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	close(ready[0]);
}

int
main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "end") != 0 &&
			  strcmp(argv[2], "noend") != 0 &&
			  strcmp(argv[2], "tail") != 0)) {
		fprintf(stderr, "usage: trace_torn FILE end|noend|tail\n");
		return 2;
	}
	const char *path = argv[1];
	const char *mode = argv[2];
	struct trace_writer *w = trace_writer_new(path, NULL);
	if (w == NULL)
		die("open");
	uint64_t seq = 0;
	for (int i = 0; i < 3; i++) {
		if (add(w, "survivor", seq++, "before") != 0)
			die("write");
	}
	if (strcmp(mode, "tail") == 0) {
		victim(path, w);
		printf("%llu\n", (unsigned long long)seq);
		return 0;
	}
	victim(path, NULL);
	for (int i = 0; i < 3; i++) {
		if (add(w, "survivor", seq++, "after") != 0)
			die("write");
	}
	if (trace_writer_close(w, strcmp(mode, "end") == 0) != 0)
		die("close");
	printf("%llu\n", (unsigned long long)seq);
	return 0;
}
