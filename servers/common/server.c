/*
 * server.c - what happens before a model's loop starts and after it ends.
 */
#include "server.h"

#include <stdio.h>

int server_start(int argc, char **argv, const char *model, const char *summary,
		 enum net_mode mode)
{
	program_name = model;
	options_parse(argc, argv, model, summary);
	raise_nofile(0);
	signals_install();
	return net_listen(mode);
}

int server_finish(void)
{
	stats_print(program_name);
	return 0;
}
