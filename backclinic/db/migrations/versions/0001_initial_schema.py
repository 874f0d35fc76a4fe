"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 09:19:55.046545
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import backclinic.db.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clinician",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", backclinic.db.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'acupuncturist', 'physical_therapist', 'front_desk')",
            name=op.f("ck_clinician_role_known"),
        ),
        sa.CheckConstraint("failed_sign_ins >= 0", name=op.f("ck_clinician_failed_non_negative")),
        sa.CheckConstraint("length(username) > 0", name=op.f("ck_clinician_username_present")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_clinician_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_clinician_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician")),
        sa.UniqueConstraint("username", name=op.f("uq_clinician_username")),
    )
    op.create_table(
        "clinic_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("logo_path", sa.Text(), nullable=True),
        sa.Column("idle_lock_minutes", sa.Integer(), nullable=False),
        sa.Column("clinic_days", sa.JSON(), nullable=False),
        sa.Column("mrn_prefix", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_clinic_settings_single_row")),
        sa.CheckConstraint(
            "idle_lock_minutes BETWEEN 1 AND 30", name=op.f("ck_clinic_settings_idle_lock_range")
        ),
        sa.CheckConstraint("length(clinic_name) > 0", name=op.f("ck_clinic_settings_name_present")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_clinic_settings_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_clinic_settings_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_settings")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mrn", sa.String(length=40), nullable=False),
        sa.Column("family_name", sa.String(length=200), nullable=False),
        sa.Column("given_name", sa.String(length=200), nullable=False),
        sa.Column("family_key", sa.String(length=200), nullable=False),
        sa.Column("given_key", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=10), nullable=True),
        sa.Column("occupation", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("archived_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "sex IS NULL OR sex IN ('female', 'male', 'other', 'unknown')",
            name=op.f("ck_patient_sex_known"),
        ),
        sa.CheckConstraint("length(family_name) > 0", name=op.f("ck_patient_family_name_present")),
        sa.CheckConstraint("length(given_name) > 0", name=op.f("ck_patient_given_name_present")),
        sa.CheckConstraint("length(mrn) > 0", name=op.f("ck_patient_mrn_present")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_patient_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_patient_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patient_mrn")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_birth_order",
            ["date_of_birth", "archived", "family_key", "given_key", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_patient_name_order", ["archived", "family_key", "given_key", "id"], unique=False
        )

    op.create_table(
        "assessment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("onset_weeks", sa.Float(), nullable=True),
        sa.Column("recurrent", sa.Boolean(), nullable=True),
        sa.Column("radiating_present", sa.Boolean(), nullable=True),
        sa.Column("radiating_side", sa.String(length=10), nullable=True),
        sa.Column("radiating_below_knee", sa.Boolean(), nullable=True),
        sa.Column("radiating_to", sa.String(length=100), nullable=True),
        sa.Column("aggravated_by", sa.JSON(), nullable=False),
        sa.Column("contributing_factors", sa.JSON(), nullable=False),
        sa.Column("red_flags", sa.JSON(), nullable=True),
        sa.Column("red_flag_clearance", sa.Text(), nullable=True),
        sa.Column("precautions", sa.JSON(), nullable=False),
        sa.Column("nprs_current", sa.Integer(), nullable=True),
        sa.Column("nprs_worst", sa.Integer(), nullable=True),
        sa.Column("nprs_best", sa.Integer(), nullable=True),
        sa.Column("odi_version", sa.String(length=20), nullable=True),
        sa.Column("odi_1", sa.Integer(), nullable=True),
        sa.Column("odi_2", sa.Integer(), nullable=True),
        sa.Column("odi_3", sa.Integer(), nullable=True),
        sa.Column("odi_4", sa.Integer(), nullable=True),
        sa.Column("odi_5", sa.Integer(), nullable=True),
        sa.Column("odi_6", sa.Integer(), nullable=True),
        sa.Column("odi_7", sa.Integer(), nullable=True),
        sa.Column("odi_8", sa.Integer(), nullable=True),
        sa.Column("odi_9", sa.Integer(), nullable=True),
        sa.Column("odi_10", sa.Integer(), nullable=True),
        sa.Column("startback_1", sa.Integer(), nullable=True),
        sa.Column("startback_2", sa.Integer(), nullable=True),
        sa.Column("startback_3", sa.Integer(), nullable=True),
        sa.Column("startback_4", sa.Integer(), nullable=True),
        sa.Column("startback_5", sa.Integer(), nullable=True),
        sa.Column("startback_6", sa.Integer(), nullable=True),
        sa.Column("startback_7", sa.Integer(), nullable=True),
        sa.Column("startback_8", sa.Integer(), nullable=True),
        sa.Column("startback_9", sa.Integer(), nullable=True),
        sa.Column("rmdq_version", sa.String(length=20), nullable=True),
        sa.Column("rmdq_score", sa.Integer(), nullable=True),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('intake', 'reassessment', 'discharge')", name=op.f("ck_assessment_kind_known")
        ),
        sa.CheckConstraint(
            "radiating_side IS NULL OR radiating_side IN ('left', 'right', 'both')",
            name=op.f("ck_assessment_radiating_side_known"),
        ),
        sa.CheckConstraint(
            "nprs_best IS NULL OR nprs_best BETWEEN 0 AND 10",
            name=op.f("ck_assessment_nprs_best_range"),
        ),
        sa.CheckConstraint(
            "nprs_current IS NULL OR nprs_current BETWEEN 0 AND 10",
            name=op.f("ck_assessment_nprs_current_range"),
        ),
        sa.CheckConstraint(
            "nprs_worst IS NULL OR nprs_worst BETWEEN 0 AND 10",
            name=op.f("ck_assessment_nprs_worst_range"),
        ),
        sa.CheckConstraint(
            "odi_1 IS NULL OR odi_1 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_1_range")
        ),
        sa.CheckConstraint(
            "odi_10 IS NULL OR odi_10 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_10_range")
        ),
        sa.CheckConstraint(
            "odi_2 IS NULL OR odi_2 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_2_range")
        ),
        sa.CheckConstraint(
            "odi_3 IS NULL OR odi_3 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_3_range")
        ),
        sa.CheckConstraint(
            "odi_4 IS NULL OR odi_4 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_4_range")
        ),
        sa.CheckConstraint(
            "odi_5 IS NULL OR odi_5 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_5_range")
        ),
        sa.CheckConstraint(
            "odi_6 IS NULL OR odi_6 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_6_range")
        ),
        sa.CheckConstraint(
            "odi_7 IS NULL OR odi_7 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_7_range")
        ),
        sa.CheckConstraint(
            "odi_8 IS NULL OR odi_8 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_8_range")
        ),
        sa.CheckConstraint(
            "odi_9 IS NULL OR odi_9 BETWEEN 0 AND 5", name=op.f("ck_assessment_odi_9_range")
        ),
        sa.CheckConstraint(
            "onset_weeks IS NULL OR onset_weeks >= 0", name=op.f("ck_assessment_onset_non_negative")
        ),
        sa.CheckConstraint(
            "rmdq_score IS NULL OR rmdq_score BETWEEN 0 AND 24",
            name=op.f("ck_assessment_rmdq_range"),
        ),
        sa.CheckConstraint(
            "startback_1 IS NULL OR startback_1 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_1_range"),
        ),
        sa.CheckConstraint(
            "startback_2 IS NULL OR startback_2 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_2_range"),
        ),
        sa.CheckConstraint(
            "startback_3 IS NULL OR startback_3 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_3_range"),
        ),
        sa.CheckConstraint(
            "startback_4 IS NULL OR startback_4 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_4_range"),
        ),
        sa.CheckConstraint(
            "startback_5 IS NULL OR startback_5 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_5_range"),
        ),
        sa.CheckConstraint(
            "startback_6 IS NULL OR startback_6 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_6_range"),
        ),
        sa.CheckConstraint(
            "startback_7 IS NULL OR startback_7 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_7_range"),
        ),
        sa.CheckConstraint(
            "startback_8 IS NULL OR startback_8 BETWEEN 0 AND 1",
            name=op.f("ck_assessment_startback_8_range"),
        ),
        sa.CheckConstraint(
            "startback_9 IS NULL OR startback_9 BETWEEN 0 AND 4",
            name=op.f("ck_assessment_startback_9_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_assessment_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_assessment_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_assessment_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment")),
    )
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assessment_patient_date", ["patient_id", "assessed_on"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_id"], ["clinician.id"], name=op.f("fk_audit_event_clinician_id_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_audit_event_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_patient", ["patient_id", "id"], unique=False)
        batch_op.create_index("ix_audit_event_time", ["occurred_at"], unique=False)

    op.create_table(
        "patient_search_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column(
            "term",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('family', 'given', 'mrn')", name=op.f("ck_patient_search_term_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patient.id"],
            name=op.f("fk_patient_search_term_patient_id_patient"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_search_term")),
    )
    with op.batch_alter_table("patient_search_term", schema=None) as batch_op:
        batch_op.create_index(
            "ix_patient_search_term_lookup", ["archived", "term", "patient_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_patient_search_term_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=True),
        sa.Column("protocol_id", sa.String(length=100), nullable=False),
        sa.Column("protocol_version", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("clinic_days", sa.JSON(), nullable=False),
        sa.Column("target_pain", sa.Integer(), nullable=True),
        sa.Column("target_odi", sa.Float(), nullable=True),
        sa.Column("functional_goals", sa.JSON(), nullable=False),
        sa.Column("precautions", sa.JSON(), nullable=False),
        sa.Column("red_flag_clearance", sa.Text(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("end_note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('active', 'completed', 'discharged', 'cancelled')",
            name=op.f("ck_plan_status_known"),
        ),
        sa.CheckConstraint("protocol_version >= 1", name=op.f("ck_plan_protocol_version_positive")),
        sa.CheckConstraint(
            "target_odi IS NULL OR (target_odi >= 0 AND target_odi <= 100)",
            name=op.f("ck_plan_target_odi_range"),
        ),
        sa.CheckConstraint(
            "target_pain IS NULL OR target_pain BETWEEN 0 AND 10",
            name=op.f("ck_plan_target_pain_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_plan_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["assessment.id"], name=op.f("fk_plan_intake_id_assessment")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_plan_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_plan_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index("ix_plan_patient_status", ["patient_id", "status"], unique=False)

    op.create_table(
        "psfs_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("activity", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.CheckConstraint("position BETWEEN 1 AND 5", name=op.f("ck_psfs_item_position_range")),
        sa.CheckConstraint("score BETWEEN 0 AND 10", name=op.f("ck_psfs_item_score_range")),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["assessment.id"],
            name=op.f("fk_psfs_item_assessment_id_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psfs_item")),
        sa.UniqueConstraint("assessment_id", "position", name="uq_psfs_item_position"),
    )
    op.create_table(
        "plan_phase",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("start_week", sa.Integer(), nullable=False),
        sa.Column("end_week", sa.Integer(), nullable=False),
        sa.Column("acupuncture_per_week", sa.Integer(), nullable=True),
        sa.Column("acupuncture_as_needed", sa.Boolean(), nullable=False),
        sa.Column("pt_per_week", sa.Integer(), nullable=False),
        sa.Column("pt_focus", sa.JSON(), nullable=False),
        sa.Column("pt_interventions", sa.JSON(), nullable=False),
        sa.Column("acupoints", sa.JSON(), nullable=False),
        sa.Column("aim", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(acupuncture_as_needed AND acupuncture_per_week IS NULL) OR (NOT acupuncture_as_needed AND acupuncture_per_week IS NOT NULL)",
            name=op.f("ck_plan_phase_acupuncture_fixed_or_as_needed"),
        ),
        sa.CheckConstraint(
            "acupuncture_per_week IS NULL OR acupuncture_per_week BETWEEN 1 AND 7",
            name=op.f("ck_plan_phase_acupuncture_range"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_plan_phase_number_positive")),
        sa.CheckConstraint("pt_per_week BETWEEN 0 AND 7", name=op.f("ck_plan_phase_pt_range")),
        sa.CheckConstraint(
            "start_week >= 1 AND end_week >= start_week", name=op.f("ck_plan_phase_weeks_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_plan_phase_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_phase_plan_id_plan")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_plan_phase_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_phase")),
        sa.UniqueConstraint("plan_id", "number", name="uq_plan_phase_number"),
    )
    op.create_table(
        "treatment_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("phase_number", sa.Integer(), nullable=True),
        sa.Column("clinician_id", sa.Integer(), nullable=True),
        sa.Column("performed_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("modalities", sa.JSON(), nullable=False),
        sa.Column("pain_before", sa.Integer(), nullable=True),
        sa.Column("pain_after", sa.Integer(), nullable=True),
        sa.Column("acupoints", sa.JSON(), nullable=False),
        sa.Column("needle_count", sa.Integer(), nullable=True),
        sa.Column("retention_minutes", sa.Integer(), nullable=True),
        sa.Column("electro", sa.Boolean(), nullable=False),
        sa.Column("technique", sa.String(length=200), nullable=False),
        sa.Column("interventions", sa.JSON(), nullable=False),
        sa.Column("tolerance", sa.String(length=10), nullable=True),
        sa.Column("adverse_events", sa.JSON(), nullable=False),
        sa.Column("adverse_event_note", sa.Text(), nullable=False),
        sa.Column("subjective", sa.Text(), nullable=False),
        sa.Column("objective", sa.Text(), nullable=False),
        sa.Column("assessment_note", sa.Text(), nullable=False),
        sa.Column("plan_note", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("amends_id", sa.Integer(), nullable=True),
        sa.Column("superseded", sa.Boolean(), nullable=False),
        sa.Column("amendment_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "tolerance IS NULL OR tolerance IN ('good', 'fair', 'poor')",
            name=op.f("ck_treatment_session_tolerance_known"),
        ),
        sa.CheckConstraint(
            "needle_count IS NULL OR needle_count BETWEEN 0 AND 60",
            name=op.f("ck_treatment_session_needles"),
        ),
        sa.CheckConstraint(
            "pain_after IS NULL OR pain_after BETWEEN 0 AND 10",
            name=op.f("ck_treatment_session_pain_after_range"),
        ),
        sa.CheckConstraint(
            "pain_before IS NULL OR pain_before BETWEEN 0 AND 10",
            name=op.f("ck_treatment_session_pain_before_range"),
        ),
        sa.CheckConstraint(
            "retention_minutes IS NULL OR retention_minutes BETWEEN 0 AND 120",
            name=op.f("ck_treatment_session_retention"),
        ),
        sa.ForeignKeyConstraint(
            ["amends_id"],
            ["treatment_session.id"],
            name=op.f("fk_treatment_session_amends_id_treatment_session"),
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinician.id"],
            name=op.f("fk_treatment_session_clinician_id_clinician"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_treatment_session_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_treatment_session_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_treatment_session_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_treatment_session_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_session")),
    )
    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_treatment_session_patient_time", ["patient_id", "performed_at"], unique=False
        )

    op.create_table(
        "scheduled_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("phase_number", sa.Integer(), nullable=False),
        sa.Column("visit_date", sa.Date(), nullable=False),
        sa.Column("modalities", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backclinic.db.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('planned', 'done', 'missed', 'cancelled')",
            name=op.f("ck_scheduled_visit_status_known"),
        ),
        sa.CheckConstraint("phase_number >= 1", name=op.f("ck_scheduled_visit_phase_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["clinician.id"], name=op.f("fk_scheduled_visit_created_by_clinician")
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_scheduled_visit_plan_id_plan")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["treatment_session.id"],
            name=op.f("fk_scheduled_visit_session_id_treatment_session"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["clinician.id"], name=op.f("fk_scheduled_visit_updated_by_clinician")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_visit")),
    )
    with op.batch_alter_table("scheduled_visit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scheduled_visit_date_status", ["visit_date", "status"], unique=False
        )
        batch_op.create_index(
            "ix_scheduled_visit_plan_date", ["plan_id", "visit_date"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scheduled_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_visit_plan_date")
        batch_op.drop_index("ix_scheduled_visit_date_status")

    op.drop_table("scheduled_visit")
    with op.batch_alter_table("treatment_session", schema=None) as batch_op:
        batch_op.drop_index("ix_treatment_session_patient_time")

    op.drop_table("treatment_session")
    op.drop_table("plan_phase")
    op.drop_table("psfs_item")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_patient_status")

    op.drop_table("plan")
    with op.batch_alter_table("patient_search_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_search_term_patient_id"))
        batch_op.drop_index("ix_patient_search_term_lookup")

    op.drop_table("patient_search_term")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_time")
        batch_op.drop_index("ix_audit_event_patient")

    op.drop_table("audit_event")
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index("ix_assessment_patient_date")

    op.drop_table("assessment")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index("ix_patient_name_order")
        batch_op.drop_index("ix_patient_birth_order")

    op.drop_table("patient")
    op.drop_table("clinic_settings")
    op.drop_table("clinician")
