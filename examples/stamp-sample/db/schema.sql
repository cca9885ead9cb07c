create table tools (id integer primary key, name text not null);
