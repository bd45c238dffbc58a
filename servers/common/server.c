/*
 * server.c - what happens before a model's loop starts and after it ends.
 */
#include "server.h"
#include "files.h"

#include <stdio.h>

void server_init(int argc, char **argv, const char *model, const char *summary)
{
	program_name = model;
	options_parse(argc, argv, model, summary);
	if (server_opt.root != NULL)
		files_init(server_opt.root); /* before any client: a bad DIR ends it here */
	raise_nofile(0);
	signals_install();
}

int server_start(int argc, char **argv, const char *model, const char *summary, enum net_mode mode)
{
	server_init(argc, argv, model, summary);
	return net_listen(mode);
}

int server_finish(void)
{
	stats_print(program_name);
	return 0;
}
