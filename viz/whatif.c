/*
 * whatif.c — interventions added in the viewer and saved back (whatif.h).
 */
#include "viz/whatif.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "base/mem.h"

int
viz_whatif_load(struct viz_whatif *w, const char *path)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	return scenario_load(path, &w->s);
}

void
viz_whatif_destroy(struct viz_whatif *w)
{
	scenario_destroy(&w->s);
	memset(w, 0, sizeof(*w));
}

int
viz_whatif_add(struct viz_whatif *w, const struct scenario_intervention *iv)
{
	uint32_t n = w->s.n_interventions;
	struct scenario_intervention *a =
		mem_realloc(w->s.interventions, (n + 1) * sizeof(*a));
	if (a == NULL) {
		diag_set(DIAG_ER_MEMORY_ISSUE, "OutOfMemory",
			 "out of memory for an intervention");
		return -1;
	}
	uint32_t at = n;
	while (at > 0 && a[at - 1].at_ns > iv->at_ns) {
		a[at] = a[at - 1];
		at--;
	}
	a[at] = *iv;
	w->s.interventions = a;
	w->s.n_interventions = n + 1;
	w->n_added++;
	return 0;
}

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = mem_alloc(SCENARIO_FILE_MAX + 1);
	size_t n = buf != NULL ? fread(buf, 1, SCENARIO_FILE_MAX, f) : 0;
	fclose(f);
	if (buf != NULL)
		buf[n] = '\0';
	return buf;
}

static const char *
do_name(enum scenario_action a)
{
	return a == SCENARIO_ACTION_PAUSE_READING ? "pause_reading" :
	       a == SCENARIO_ACTION_RESUME_READING ? "resume_reading" :
	       a == SCENARIO_ACTION_HOLD_CORD ? "hold_cord" :
	       a == SCENARIO_ACTION_SET_OPTION ? "set_option" :
	       a == SCENARIO_ACTION_DELAY_MESSAGE ? "delay_message" :
	       "disconnect";
}

int
viz_whatif_save(const struct viz_whatif *w, const char *out)
{
	char *text = read_file(w->path);
	cJSON *root = text != NULL ? cJSON_Parse(text) : NULL;
	mem_free(text);
	if (root == NULL) {
		diag_set(DIAG_ER_SYSTEM, "SystemError", "%s: cannot read it "
			 "back", w->path);
		return -1;
	}
	cJSON *list = cJSON_CreateArray();
	for (uint32_t i = 0; list != NULL && i < w->s.n_interventions; i++) {
		const struct scenario_intervention *iv = &w->s.interventions[i];
		cJSON *o = cJSON_CreateObject();
		if (o == NULL)
			break;
		cJSON_AddNumberToObject(o, "at_us", (double)(iv->at_ns / 1000));
		if (iv->action != SCENARIO_ACTION_HOLD_CORD &&
		    iv->action != SCENARIO_ACTION_SET_OPTION &&
		    iv->action != SCENARIO_ACTION_DELAY_MESSAGE)
			cJSON_AddStringToObject(o, "client",
						w->s.clients[iv->client].name);
		cJSON_AddStringToObject(o, "do", do_name(iv->action));
		if (iv->action == SCENARIO_ACTION_HOLD_CORD) {
			cJSON_AddStringToObject(o, "cord", iv->cord);
			cJSON_AddNumberToObject(o, "for_us",
						(double)(iv->for_ns / 1000));
		}
		if (iv->action == SCENARIO_ACTION_DELAY_MESSAGE) {
			cJSON_AddNumberToObject(o, "msg", (double)iv->msg);
			cJSON_AddStringToObject(o, "to", iv->to);
			cJSON_AddNumberToObject(o, "for_us",
						(double)(iv->for_ns / 1000));
		}
		if (iv->action == SCENARIO_ACTION_SET_OPTION) {
			cJSON_AddStringToObject(o, "name", iv->option ==
				SCENARIO_OPTION_NET_MSG_MAX ? "net_msg_max" :
				"readahead");
			cJSON_AddNumberToObject(o, "value", (double)iv->value);
		}
		if (iv->is_reset)
			cJSON_AddBoolToObject(o, "reset", true);
		cJSON_AddItemToArray(list, o);
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, "interventions");
	cJSON_AddItemToObject(root, "interventions", list);
	/* A new name: the forked run is a scenario of its own. */
	char name[80];
	snprintf(name, sizeof(name), "%.55s-what-if", w->s.name);
	cJSON_ReplaceItemInObjectCaseSensitive(root, "name",
					       cJSON_CreateString(name));
	/* A tour's stops were proven on the original run, not the fork. */
	cJSON_DeleteItemFromObjectCaseSensitive(root, "tour");
	char *json = cJSON_Print(root);
	cJSON_Delete(root);
	FILE *f = json != NULL ? fopen(out, "w") : NULL;
	int rc = f != NULL && fputs(json, f) >= 0 && fputc('\n', f) != EOF ?
		 0 : -1;
	if (f != NULL && fclose(f) != 0)
		rc = -1;
	cJSON_free(json);
	if (rc != 0)
		diag_set(DIAG_ER_SYSTEM, "SystemError", "cannot write %s: %s",
			 out, strerror(errno));
	return rc;
}
