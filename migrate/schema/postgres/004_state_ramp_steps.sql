-- The weights of the running ramp, as the node that started it had them
-- configured ("10,25,50"; '' without a ramp). Every node advances the ramp
-- by these (migrate/controller.go), whatever its own config says, so
-- nodes with other ramp.steps, or none, agree on each step's weight.
ALTER TABLE migration_state ADD COLUMN ramp_steps TEXT NOT NULL DEFAULT '';
