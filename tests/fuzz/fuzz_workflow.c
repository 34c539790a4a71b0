/* Fuzzes workflow_parse, the reader of the workflow definition (data/workflow.json). When it
 * accepts, the table must be sound by workflow_check, every action's states must be among
 * the states, and the first state must be draft; when it refuses, it says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cases/workflow.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool known(const struct workflow *w, const char *code)
{
	for (size_t i = 0; i < w->ns; i++)
		if (!strcmp(w->states[i].code, code))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct workflow *w = NULL;
	char err[600] = "";
	int rc = workflow_parse((const char *)data, size, "fuzz", &w, err, sizeof(err));
	if (rc) {
		check(rc == GH_EINVAL && err[0] && !w);
		return 0;
	}
	check(w && w->ns >= 1 && w->na >= 1 && !strcmp(w->states[0].code, "draft"));
	check(workflow_check(w->states, w->ns, w->actions, w->na, err, sizeof(err)) == 0);
	for (size_t i = 0; i < w->na; i++) {
		check(w->actions[i].actors != 0);
		for (size_t k = 0; w->actions[i].from[k]; k++)
			check(known(w, w->actions[i].from[k]));
		check(!w->actions[i].to || known(w, w->actions[i].to));
	}
	workflow_free(w);
	return 0;
}
