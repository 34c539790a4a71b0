#include "cases/workflow.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"

const struct wf_state wf_states[] = {
	{ "draft", "草稿", "Draft", false, false, false },
	{ "submitted", "已提交", "Submitted", false, false, false },
	{ "supplement", "待补正", "Supplement requested", false, true, false },
	{ "accepted", "已受理", "Accepted", false, false, false },
	{ "under_review", "审查中", "Under review", false, false, false },
	{ "special", "特别程序", "Special procedure", false, true, false },
	{ "approved", "准予许可", "Approved", false, false, true },
	{ "completed", "已办结", "Completed", true, false, true, true },
	{ "not_accepted", "不予受理", "Not accepted", true, false, true },
	{ "denied", "不予许可", "Denied", true, false, true, true },
	{ "withdrawn", "已撤回", "Withdrawn", true, false, false },
};
const size_t wf_states_n = ARRAY_LEN(wf_states);

#define STAFF_ANY (WF_COUNTER | WF_REVIEWER | WF_HEAD)

const struct wf_action wf_actions[] = {
	{ "submit", "提交", "Submit", { "draft", NULL }, "submitted", WF_APPLICANT | WF_COUNTER, WF_CLOCK_NONE, false, false },
	{ "accept", "受理", "Accept", { "submitted", NULL }, "accepted", WF_COUNTER | WF_HEAD, WF_CLOCK_START, false, true },
	{ "refuse", "不予受理", "Refuse to accept", { "submitted", NULL }, "not_accepted", WF_COUNTER | WF_HEAD,
	  WF_CLOCK_STOP, true, true },
	{ "request_supplement", "一次性告知补正", "Request missing material", { "submitted", "under_review", NULL },
	  "supplement", STAFF_ANY, WF_CLOCK_PAUSE, true, false },
	{ "resubmit", "补正材料", "Supply the material", { "supplement", NULL }, NULL, WF_APPLICANT | WF_COUNTER,
	  WF_CLOCK_RESUME, false, false },
	{ "start_review", "开始审查", "Start the review", { "accepted", NULL }, "under_review", WF_REVIEWER | WF_HEAD,
	  WF_CLOCK_NONE, false, false },
	{ "start_special", "进入特别程序", "Start a special procedure", { "under_review", NULL }, "special",
	  WF_REVIEWER | WF_HEAD, WF_CLOCK_PAUSE, true, false },
	{ "end_special", "特别程序结束", "End the special procedure", { "special", NULL }, NULL, WF_REVIEWER | WF_HEAD,
	  WF_CLOCK_RESUME, false, false },
	{ "approve", "准予许可", "Approve", { "under_review", NULL }, "approved", WF_REVIEWER | WF_HEAD, WF_CLOCK_STOP,
	  false, true },
	{ "deny", "不予许可", "Deny", { "under_review", NULL }, "denied", WF_REVIEWER | WF_HEAD, WF_CLOCK_STOP, true, true },
	{ "complete", "办结", "Complete", { "approved", NULL }, "completed", WF_COUNTER | WF_HEAD, WF_CLOCK_NONE, false,
	  true },
	{ "withdraw", "撤回", "Withdraw", { "submitted", "supplement", "accepted", "under_review", "special", NULL },
	  "withdrawn", WF_APPLICANT, WF_CLOCK_STOP, false, false },
};
const size_t wf_actions_n = ARRAY_LEN(wf_actions);

const struct wf_state *wf_state(const char *code)
{
	for (size_t i = 0; code && i < wf_states_n; i++)
		if (strcmp(wf_states[i].code, code) == 0)
			return &wf_states[i];
	return NULL;
}

const struct wf_action *wf_action(const char *code)
{
	for (size_t i = 0; code && i < wf_actions_n; i++)
		if (strcmp(wf_actions[i].code, code) == 0)
			return &wf_actions[i];
	return NULL;
}

bool wf_allows(const struct wf_action *a, const char *state)
{
	for (size_t i = 0; a->from[i]; i++)
		if (strcmp(a->from[i], state) == 0)
			return true;
	return false;
}

static int find_state(const struct wf_state *states, size_t ns, const char *code)
{
	for (size_t i = 0; code && i < ns; i++)
		if (strcmp(states[i].code, code) == 0)
			return (int)i;
	return -1;
}

int workflow_check(const struct wf_state *states, size_t ns, const struct wf_action *actions, size_t na,
		   char *err, size_t errlen)
{
	bool reach[64] = { false }, exit_[64] = { false };
	if (ns == 0 || ns > 64) {
		snprintf(err, errlen, "workflow: %zu states (1 to 64 allowed)", ns);
		return -1;
	}
	for (size_t i = 0; i < na; i++) {
		const struct wf_action *a = &actions[i];
		if (!a->actors) {
			snprintf(err, errlen, "workflow: action %s names nobody who may take it", a->code);
			return -1;
		}
		if (!a->from[0]) {
			snprintf(err, errlen, "workflow: action %s applies to no state", a->code);
			return -1;
		}
		for (size_t k = 0; a->from[k]; k++) {
			int s = find_state(states, ns, a->from[k]);
			if (s < 0) {
				snprintf(err, errlen, "workflow: action %s starts from unknown state %s", a->code, a->from[k]);
				return -1;
			}
			if (states[s].terminal) {
				snprintf(err, errlen, "workflow: action %s leaves terminal state %s", a->code, a->from[k]);
				return -1;
			}
			if (!a->to && !states[s].paused) {
				snprintf(err, errlen, "workflow: action %s returns from %s, which is not a paused state",
					 a->code, a->from[k]);
				return -1;
			}
			exit_[s] = true;
		}
		if (a->to && find_state(states, ns, a->to) < 0) {
			snprintf(err, errlen, "workflow: action %s leads to unknown state %s", a->code, a->to);
			return -1;
		}
	}
	/* Reachability from the first state; a return action reaches where its paused state was
	 * entered from. */
	reach[0] = true;
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < na; i++) {
			const struct wf_action *a = &actions[i];
			for (size_t k = 0; a->from[k]; k++) {
				int s = find_state(states, ns, a->from[k]);
				if (!reach[s] || !a->to)
					continue;
				int t = find_state(states, ns, a->to);
				if (!reach[t])
					reach[t] = changed = true;
			}
		}
	}
	for (size_t s = 0; s < ns; s++) {
		if (!reach[s]) {
			snprintf(err, errlen, "workflow: state %s cannot be reached", states[s].code);
			return -1;
		}
		if (!states[s].terminal && !exit_[s]) {
			snprintf(err, errlen, "workflow: state %s is a dead end but not terminal", states[s].code);
			return -1;
		}
		if (states[s].terminal && exit_[s]) {
			snprintf(err, errlen, "workflow: terminal state %s has a way out", states[s].code);
			return -1;
		}
	}
	return 0;
}
