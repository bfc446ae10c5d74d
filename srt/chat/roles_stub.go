package chat

type RoleFormat struct{}
