/*
 * test_events.c — DESIGN §5's rules shared by the event sources
 * (audit/events.h): the helpers the JSON Lines source calls while it reads
 * (serials in OpenSSL's form, kinds looked up with every name for the
 * message, party field names) and events_validate, which the CSV source
 * calls, giving the same normal forms and messages.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "testutil.h"

START_TEST(serials_as_openssl_prints_them)
{
	static const char *const cases[][2] = {
		{"0", "00"},       {"00FF01", "FF01"}, {"ff01", "FF01"},
		{"abc", "0ABC"},   {"0a1b2c", "0A1B2C"}, {"000000", "00"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *s = events_serial(cases[i][0]);

		ck_assert_ptr_nonnull(s);
		ck_assert_msg(!strcmp(s, cases[i][1]), "'%s' gave '%s', want '%s'", cases[i][0], s,
			      cases[i][1]);
		free(s);
	}
}
END_TEST

START_TEST(kinds_and_names)
{
	char names[512] = "untouched";
	const struct events_kind *k = events_kind("deliver", names, sizeof names);

	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "deliver");
	ck_assert_uint_eq(k->required, EV_APP | EV_SERIAL | EV_RECIPIENT);
	ck_assert_str_eq(names, "untouched");  /* joined only for a message */
	ck_assert_ptr_null(events_kind("注销", names, sizeof names));
	ck_assert_str_eq(names, "apply, notice, accept, identity_verify, review, contract, "
			 "issue, deliver, renew_request, renew, revoke_request, revoke, "
			 "archive, purge");
	ck_assert_str_eq(events_party_fields("applicant")[0], "applicant.type");
	ck_assert_str_eq(events_party_fields("recipient")[3], "recipient.id");
	ck_assert(events_in_list("fees", events_notice_items));
	ck_assert(!events_in_list("weather", events_notice_items));
	events_join_names(events_cover_items, names, sizeof names);
	ck_assert_str_eq(names, "rights, obligations");
}
END_TEST

/* What a CSV source hands over: text as read. */
static int validate(struct event_rec *ev, char *why)
{
	struct app_rec app = {0};
	int rc = events_validate(ev, &app, why, 512);

	app_rec_clear(&app);
	return rc;
}

START_TEST(validate_normalises_and_names_the_field)
{
	struct event_rec ev = {0};
	char why[512];

	set_str(&ev.kind, "renew");
	set_str(&ev.at, "2024-06-02 02:00:00");
	set_str(&ev.serial, " 0a1b2c ");
	set_str(&ev.new_serial, "00ff01");
	ck_assert_msg(validate(&ev, why) == 0, "%s", why);
	ck_assert_str_eq(ev.serial, "0A1B2C");
	ck_assert_str_eq(ev.new_serial, "FF01");
	event_rec_clear(&ev);

	set_str(&ev.kind, "cancel");
	set_str(&ev.at, "2024-06-02 02:00:00");
	ck_assert_int_eq(validate(&ev, why), -1);
	ck_assert_str_eq(why, "unknown kind 'cancel' (expected one of: apply, notice, accept, "
			 "identity_verify, review, contract, issue, deliver, renew_request, "
			 "renew, revoke_request, revoke, archive, purge)");
	event_rec_clear(&ev);

	set_str(&ev.kind, "notice");
	set_str(&ev.at, "2024-06-02 02:00:00");
	set_str(&ev.app, "A-1");
	set_str(&ev.items, "fees, fees,weather");
	ck_assert_int_eq(validate(&ev, why), -1);
	ck_assert_str_eq(why, "field 'items': unknown item 'weather' (expected any of: "
			 "usage_conditions, fees, personal_info, ca_liability, holder_liability)");
	event_rec_clear(&ev);

	set_str(&ev.kind, "deliver");
	set_str(&ev.at, "2024-06-02 02:00:00");
	set_str(&ev.app, "A-1");
	set_str(&ev.serial, "12:AB");
	ck_assert_int_eq(validate(&ev, why), -1);
	ck_assert_str_eq(why, "field 'serial': expected a certificate serial in hex, found '12:AB'");
	set_str(&ev.serial, "12AB");
	set_str(&ev.recipient_name, "张三");
	set_str(&ev.recipient_id_type, "resident_id");
	ck_assert_int_eq(validate(&ev, why), -1);
	ck_assert_str_eq(why, "missing required field 'recipient.id' for kind 'deliver'");
	event_rec_clear(&ev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("core");
	int failed;

	tcase_add_test(tc, serials_as_openssl_prints_them);
	tcase_add_test(tc, kinds_and_names);
	tcase_add_test(tc, validate_normalises_and_names_the_field);
	suite_add_tcase(s, tc);
	failed = tu_suite_failures(s, CK_FORK_GETENV);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
